"""The contract in wsdl/ + xsd/ is what the broker serves, and what its spyne models implement."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import zeep
from lxml import etree

from broker.edukoppeling.contract import BROKER_SERVICES, Contract, contract_map
from broker.soap import models

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAPBIND = "http://schemas.xmlsoap.org/wsdl/soap/"
WSAM = "http://www.w3.org/2007/05/addressing/metadata"
ROOT = contract_map()
WSDLS = sorted((ROOT / "wsdl").glob("*.wsdl"))


BROKER_WSDLS = [d.wsdl for d in Contract(keys=BROKER_SERVICES).services.values()]


@pytest.mark.parametrize("wsdl", BROKER_WSDLS, ids=lambda p: p.name)
def test_served_wsdl_is_the_contract_file(broker, wsdl):
    service = next(d for d in Contract().services.values() if d.wsdl == wsdl)
    response = broker.post(b"", method="GET", path=f"{service.path}?wsdl")
    assert response.status == 200
    contract_text = wsdl.read_text(encoding="utf-8")
    served = response.body.decode("utf-8")
    # Only the placeholder endpoint differs: it becomes the address the WSDL was fetched from.
    assert served == contract_text.replace(f"https://vva.example{service.path}", f"{broker.url}{service.path}")


def test_the_broker_does_not_serve_the_receiver_contract(broker):
    assert broker.post(b"", method="GET", path="/vva/ontvanger/v1?wsdl").status == 404


def test_served_xsd_is_the_contract_file(broker):
    response = broker.post(b"", method="GET", path="/vva/xsd/vva-aanmelden-v1.xsd")
    assert response.body == (ROOT / "xsd" / "vva-aanmelden-v1.xsd").read_bytes()
    assert broker.post(b"", method="GET", path="/vva/xsd/../pyproject.toml").status == 404


@pytest.mark.parametrize("wsdl", WSDLS, ids=lambda p: p.name)
def test_wsdl_follows_wus(wsdl):
    doc = etree.parse(str(wsdl)).getroot()
    ns = {"w": WSDL, "s": SOAPBIND}
    assert doc.get("targetNamespace").startswith("urn:nl:vva:aanmelden:v1:")
    assert len(doc.findall("w:portType", ns)) == 1  # WS003: one port type per WSDL
    assert doc.find("w:binding/s:binding", ns).get("style") == "document"
    for op in doc.findall("w:portType/w:operation", ns):
        naam = op.get("name")
        binding = doc.find(f"w:binding/w:operation[@name='{naam}']/s:operation", ns)
        action = binding.get("soapAction")
        assert op.find("w:input", ns).get(f"{{{WSAM}}}Action") == action  # WS008
        assert op.find("w:output", ns).get(f"{{{WSAM}}}Action") == action  # R2
        for message, element in ((naam, naam), (f"{naam}Response", f"{naam}Response")):
            part = doc.find(f"w:message[@name='{message}']/w:part", ns)
            assert part.get("element") == f"vva:{element}"  # wrapped: element = operation (T2)
    for body in doc.iter(f"{{{SOAPBIND}}}body"):
        assert body.get("use") == "literal"


def _sequences(xsd: Path) -> dict[str, list[str]]:
    """Type or element name -> the names of its sequence children, for every complex type."""
    schema = etree.parse(str(xsd)).getroot()
    outcome = {}
    for ct in schema.findall(f"{{{XS}}}complexType"):
        outcome[ct.get("name")] = [e.get("name") for e in ct.findall(f"{{{XS}}}sequence/{{{XS}}}element")]
    for el in schema.findall(f"{{{XS}}}element"):
        anonymous = el.find(f"{{{XS}}}complexType")
        if anonymous is not None:
            outcome[el.get("name")] = [
                e.get("name") for e in anonymous.findall(f"{{{XS}}}sequence/{{{XS}}}element")
            ]
        else:
            outcome[el.get("name")] = outcome[el.get("type").split(":", 1)[1]]
    return outcome


def test_spyne_models_match_the_xsd():
    expected = _sequences(ROOT / "xsd" / "vva-aanmelden-v1.xsd")
    found = {}
    for klass in vars(models).values():
        if isinstance(klass, type) and issubclass(klass, models._Vva) and klass is not models._Vva:
            found[klass.get_type_name()] = list(klass.get_flat_type_info(klass))
    assert found == expected


@pytest.mark.parametrize("wsdl", WSDLS, ids=lambda p: p.name)
def test_zeep_generates_a_client_without_warnings(wsdl):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client = zeep.Client(str(wsdl), settings=zeep.Settings(forbid_dtd=True, forbid_entities=True))
    assert "ping" in client.service._binding._operations


def test_h95_packaging_pins_patched_lxml_sharing_libxml2_with_xmlsec():
    import xmlsec

    assert etree.LIBXML_VERSION == xmlsec.get_libxml_version()
    assert etree.LXML_VERSION >= (6, 1, 3)
