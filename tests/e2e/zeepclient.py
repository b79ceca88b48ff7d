"""zeep clients generated from the WSDLs the broker serves, as a LAS vendor would build them."""

from __future__ import annotations

from lxml import etree
from zeep import Client, Plugin, Settings
from zeep.transports import Transport

from broker.config import TEST_BROKER_OIN
from broker.edukoppeling.contract import Contract
from broker.edukoppeling.ns import SOAP11, q
from broker.outbound.adressering import EdukoppelingAdressering


class Schemacontrole(Plugin):
    """Validates every response Body child against ``xsd/`` (design.md **must**) and keeps the last one."""

    def __init__(self) -> None:
        self.contract = Contract()
        self.laatste = None

    def ingress(self, envelope, http_headers, operation):
        inhoud = envelope.find(q(SOAP11, "Body"))[0]
        self.laatste = envelope
        if inhoud.tag != q(SOAP11, "Fault"):
            self.contract.valideer_element(inhoud)
        return envelope, http_headers


def client(broker_url: str, dienst: str, afzender_oin: str) -> Client:
    """A zeep client for ``dienst`` (vo|mbo|gemeente|regio) speaking as ``afzender_oin``."""
    controle = Schemacontrole()
    zeep_client = Client(
        f"{broker_url}/vva/{dienst}/v1?wsdl",
        settings=Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=False),
        transport=Transport(timeout=30, operation_timeout=60),
        plugins=[EdukoppelingAdressering(afzender_oin, TEST_BROKER_OIN), controle],
    )
    zeep_client.schemacontrole = controle
    return zeep_client


def tostring(element) -> str:
    return etree.tostring(element).decode()
