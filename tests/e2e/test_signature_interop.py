"""The broker's signed answers verify with signxml, and a request signed with ``vva envelope sign`` is
accepted end to end. The stacks outside Python (xmlsec1, Santuario, node-soap, PHP) are in tests/interop."""

from __future__ import annotations

import pytest
import signxml
from click.testing import CliRunner
from lxml import etree

from broker.cli import main
from broker.config import TEST_BROKER_OIN
from broker.edukoppeling.ns import SOAP11, WSA, q
from broker.edukoppeling.wss.constants import WSSE11
from tests.edukoppeling.conftest import build_envelope
from tests.helpers import post_soap

SCHOOL_A = "0000000700099XA00000"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def _signed_request(demo, tmp_path, body: str | None = None) -> bytes:
    unsigned = tmp_path / "verzoek.xml"
    unsigned.write_bytes(build_envelope(body) if body else build_envelope(action="urn:nl:vva:aanmelden:v1/vo/ping"))
    pki = demo.pki
    result = CliRunner().invoke(
        main,
        [
            "envelope",
            "sign",
            str(unsigned),
            "--key",
            str(pki / f"{SCHOOL_A}.key.pem"),
            "--cert",
            str(pki / f"{SCHOOL_A}.cert.pem"),
            "--out",
            str(tmp_path / "ondertekend.xml"),
        ],
    )
    assert result.exit_code == 0, result.output
    return (tmp_path / "ondertekend.xml").read_bytes()


@pytest.fixture
def response(demo_broker, tmp_path):
    soap_request = _signed_request(demo_broker, tmp_path)
    status, body = post_soap(demo_broker.url, soap_request)
    assert status == 200, body
    return soap_request, body


def test_request_from_vva_envelope_sign_is_accepted_and_acknowledged(response):
    soap_request, body = response
    root = etree.fromstring(body)
    signature = "".join(
        etree.fromstring(soap_request).find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue").text.split()
    )
    # S8: the answer confirms exactly the request's signature; R4-R6: addressed back with OINs.
    assert root.find(f".//{q(WSSE11, 'SignatureConfirmation')}").get("Value") == signature
    assert root.find(f".//{q(WSA, 'To')}").text.endswith(f"?oin={SCHOOL_A}")
    assert root.find(f".//{q(WSA, 'From')}/{q(WSA, 'Address')}").text.endswith(f"?oin={TEST_BROKER_OIN}")
    assert root.find(f".//{q(SOAP11, 'Body')}")[0].tag == "{urn:nl:vva:aanmelden:v1}pingResponse"


def test_answer_verifies_with_signxml(demo_broker, response):
    _, body = response
    certificate = (demo_broker.pki / f"{TEST_BROKER_OIN}.cert.pem").read_bytes()
    root = etree.fromstring(body)
    # Body, Timestamp, SignatureConfirmation, BST and the five wsa headers: Action, MessageID,
    # RelatesTo, From, To.
    results = signxml.XMLVerifier().verify(
        body, x509_cert=certificate.decode(), id_attribute="Id", expect_references=9
    )
    signed = {etree.QName(r.signed_xml).localname for r in results}
    assert signed == {
        "Body",
        "Timestamp",
        "SignatureConfirmation",
        "BinarySecurityToken",
        "Action",
        "MessageID",
        "RelatesTo",
        "From",
        "To",
    }
    assert root.find(f".//{q(WSSE, 'Security')}") is not None


def _header_names(message: bytes) -> list[str]:
    return [etree.QName(block).localname for block in etree.fromstring(message).find(q(SOAP11, "Header"))]


def test_security_is_the_last_header_block_of_a_signed_answer_and_fault(demo_broker, response, tmp_path):
    """gSOAP's WS-Security plugin refuses a message whose signed header block follows wsse:Security
    ("Message body not signed"); DUO's answers have Security last (issue 14, item 10)."""
    _, body = response
    assert _header_names(body) == ["Action", "MessageID", "RelatesTo", "From", "To", "Security"]
    invalid = '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:onbekend/></vva:ping>'
    status, error = post_soap(demo_broker.url, _signed_request(demo_broker, tmp_path, invalid))
    assert status == 500 and b"<faultcode>soap:Client." in error, error
    assert _header_names(error) == ["Action", "MessageID", "RelatesTo", "From", "To", "Security"]
    assert etree.fromstring(error).find(f".//{q(WSSE11, 'SignatureConfirmation')}") is not None
