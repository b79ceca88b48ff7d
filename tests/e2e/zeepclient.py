"""zeep clients generated from the WSDLs the broker serves, as a LAS vendor would build them:
signed with the party's own demo key, answers verified and validated against the XSD."""

from __future__ import annotations

from zeep import Client, Plugin, Settings
from zeep.transports import Transport

from broker.config import TEST_BROKER_OIN
from broker.edukoppeling.contract import Contract
from broker.edukoppeling.ns import SOAP11, q
from broker.edukoppeling.trust_store import TrustStore
from broker.edukoppeling.wss.signer import Signer
from broker.outbound.addressing import EdukoppelingAddressing
from broker.outbound.signing import EdukoppelingWsse


class SchemaCheck(Plugin):
    """Validates every response Body child against ``xsd/`` (docs/architecture.md, "Fixed requirements")."""

    def __init__(self) -> None:
        self.contract = Contract()

    def ingress(self, envelope, http_headers, operation):
        inhoud = envelope.find(q(SOAP11, "Body"))[0]
        if inhoud.tag != q(SOAP11, "Fault"):
            self.contract.validate_element(inhoud)
        return envelope, http_headers


def client(demo, service: str, sender_oin: str, certificaat_oin: str | None = None) -> Client:
    """A zeep client for ``dienst`` (vo|mbo|gemeente|regio) speaking for ``afzender_oin`` (wsa:From),
    signing with the demo key of ``certificaat_oin`` (default: the same party)."""
    key_oin = certificaat_oin or sender_oin
    signer = Signer(
        (demo.pki / f"{key_oin}.key.pem").read_bytes(),
        (demo.pki / f"{key_oin}.cert.pem").read_bytes(),
    )
    ca = demo.pki / "ca"
    trust = TrustStore([ca / "root.pem", ca / "issuing.pem"], [ca / "root.crl.pem", ca / "issuing.crl.pem"])
    return Client(
        f"{demo.url}/vva/{service}/v1?wsdl",
        settings=Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=False),
        transport=Transport(timeout=30, operation_timeout=60),
        wsse=EdukoppelingWsse(signer, trust, expected_oin=TEST_BROKER_OIN),
        plugins=[EdukoppelingAddressing(sender_oin, TEST_BROKER_OIN), SchemaCheck()],
    )
