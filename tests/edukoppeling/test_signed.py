"""The signed profile (2W-be-S) through the whole HTTP pipeline: what the verifier and the trust
store decide (tests/wss, tests/pki) also decides the answer on the wire, in the check order of docs/rules.md."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from lxml import etree

from broker.edukoppeling.faults import WsSecurityFault
from broker.edukoppeling.response import to_bytes
from broker.edukoppeling.wss.signer import Signer
from tests.edukoppeling.conftest import SCHOOL_A, VO, build_envelope

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"


def signed(
    broker, body: bytes | None = None, oin: str = SCHOOL_A, folder: str = "", now: datetime | None = None
) -> bytes:
    root = etree.fromstring(body or build_envelope())
    pki = broker.pki / folder
    Signer((pki / f"{oin}.key.pem").read_bytes(), (pki / f"{oin}.cert.pem").read_bytes()).sign(
        root, now or datetime.now(UTC)
    )
    return to_bytes(root)


def test_signed_request_gives_signed_answer(signed_broker):
    response = signed_broker.post(signed(signed_broker), soapaction=f'"{VO}ping"')
    assert response.status == 200
    root = etree.fromstring(response.body)
    assert root.find(f".//{{{WSSE}}}Security/{{{DS}}}Signature") is not None


def test_h10_unsigned_request_on_a_signed_service(signed_broker):
    response = signed_broker.post(build_envelope())
    assert (response.status, response.faultcode) == (500, "soap:Client.EK0031")
    # S9: the fault itself is signed.
    assert etree.fromstring(response.body).find(f".//{{{DS}}}Signature") is not None


def test_h57_expired_timestamp_over_http(signed_broker):
    old = signed(signed_broker, now=datetime.now(UTC) - timedelta(seconds=400))
    assert signed_broker.post(old).faultcode == "soap:Client.EK0031"


def test_h1_moved_body_over_http(signed_broker):
    root = etree.fromstring(signed(signed_broker))
    soap = "http://schemas.xmlsoap.org/soap/envelope/"
    body = root.find(f"{{{soap}}}Body")
    wrapper = etree.SubElement(root.find(f"{{{soap}}}Header"), "{urn:x}Wrapper")
    wrapper.append(body)
    new = etree.SubElement(root, f"{{{soap}}}Body")
    etree.SubElement(new, "{urn:nl:vva:aanmelden:v1}ping")
    # The wrapper is an unknown header: caught even before the signature (DK0010); either way refused.
    assert signed_broker.post(to_bytes(root)).faultcode in (
        "soap:Client.DK0010",
        "soap:Client.EK0031",
    )


def test_h44_h46_h47_certificates_that_are_no_good(signed_broker):
    for variant, code in [
        ("zelfondertekend", "soap:Client.EK0031"),
        ("verlopen", "soap:Client.EK0031"),
        ("ingetrokken", "soap:Client.EK0031"),
        ("vreemde-ca", "soap:Client.EK0031"),
        ("zonder-oin", "soap:Client.EK0030"),
    ]:
        response = signed_broker.post(signed(signed_broker, oin=variant, folder="test"))
        assert (variant, response.faultcode) == (variant, code)


def test_h48_signed_by_another_partij_without_mandaat(signed_broker):
    # School 99XC signs a message on behalf of school 99XA: no mandate.
    response = signed_broker.post(signed(signed_broker, oin="0000000700099XC00000"))
    assert response.faultcode == "soap:Client.DK0002"
    # The supplier 00000099000000000077 holds a mandate for 99XA.
    assert (
        signed_broker.post(signed(signed_broker, oin="00000099000000000077")).status == 200
    )


def test_order_two_faults_always_give_the_same_code(signed_broker):
    """The check order (docs/rules.md): addressing before security before authorisation before XSD."""
    # An invalid MessageID (EK0023) in an unsigned message (EK0031) to a foreign From (DK0002): EK0023.
    body = build_envelope(message_id="geen-uuid", van="0000000700099XC00000")
    assert signed_broker.post(body).faultcode == "soap:Client.EK0023"
    # A valid signature by the wrong party (DK0002) on a Body that violates the XSD (DK0004): DK0002.
    fault_body = build_envelope('<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:onbekend/></vva:ping>')
    response = signed_broker.post(
        signed(signed_broker, fault_body, oin="0000000700099XC00000")
    )
    assert response.faultcode == "soap:Client.DK0002"
    # Signed by the right party, the same Body: now the XSD speaks.
    assert (
        signed_broker.post(signed(signed_broker, fault_body)).faultcode
        == "soap:Client.DK0004"
    )
    # The same message twice gives the same code.
    message_id = f"urn:uuid:{uuid.uuid4()}"
    two = [
        signed_broker.post(build_envelope(message_id=message_id, to="https://x.example")).faultcode
        for _ in range(2)
    ]
    assert two == ["soap:Client.EK0022", "soap:Client.EK0022"]


def test_m2_mandaat_limited_to_actions(signed_broker):
    """The regional system may ask for school 99XA but not deliver for it (demo mandate)."""
    regio = "00000099000000000042"
    queries = build_envelope(
        '<vva:opvragenStatus xmlns:vva="urn:nl:vva:aanmelden:v1"/>', action=VO + "opvragenStatus"
    )
    assert signed_broker.post(signed(signed_broker, queries, oin=regio)).status == 200
    delivery = build_envelope(
        '<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling><vva:volgnummer>1</vva:volgnummer>'
        "<vva:bsn>111222333</vva:bsn><vva:brinVo>99XA</vva:brinVo><vva:postcode>1011AB</vva:postcode>"
        "<vva:woongemeente>0363</vva:woongemeente><vva:mutatie>toevoegen</vva:mutatie></vva:leerling></vva:aanleverenLeerlingen>",
        action=VO + "aanleverenLeerlingen",
    )
    response = signed_broker.post(signed(signed_broker, delivery, oin=regio))
    assert response.faultcode == "soap:Client.DK0002"
    assert signed_broker.scalar("SELECT count(*) FROM leerling") == 0


def test_h64_re_encoded_signature_is_still_a_replay(signed_broker):
    """The same signature written with other spare bits in its base64 is the same signature."""
    data = signed(signed_broker)
    assert signed_broker.post(data).status == 200
    root = etree.fromstring(data)
    waarde = root.find(f".//{{{DS}}}SignatureValue")
    text = "".join(waarde.text.split())
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    without = text.rstrip("=")
    unused = (6 * len(without)) % 8  # spare low bits in the last character
    last = alphabet.index(without[-1])
    other = alphabet[last ^ 1] if unused else without[-1]
    assert other != without[-1]
    waarde.text = without[:-1] + other + text[len(without) :]
    assert signed_broker.post(to_bytes(root)).faultcode == "soap:Client.EK0031"


def test_h10_h64_the_message_log_records_the_ws_security_class_before_the_reason(signed_broker):
    """The WS-Security class travels as ``EdukoppelingFault.wss``; the message log's text is unchanged:
    the class's QName, one space, the reason."""
    last = "SELECT reden FROM bericht WHERE richting = 'in' ORDER BY id DESC LIMIT 1"
    assert signed_broker.post(build_envelope()).faultcode == "soap:Client.EK0031"
    without_signature = signed_broker.scalar(last)
    data = signed(signed_broker)
    assert signed_broker.post(data).status == 200
    assert signed_broker.post(data).faultcode == "soap:Client.EK0031"
    replay = signed_broker.scalar(last)
    assert (without_signature, replay) == (
        "wsse:InvalidSecurity no wsse:Security header",
        "wsse:InvalidSecurity replay of an applied message",
    )
    assert (without_signature, replay) == (
        f"{WsSecurityFault.INVALID_SECURITY.value} no wsse:Security header",
        f"{WsSecurityFault.INVALID_SECURITY.value} replay of an applied message",
    )


def test_h113_comment_before_the_operation_in_the_body(signed_broker):
    body = build_envelope(
        '<!-- opmerking --><vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo>x</vva:echo></vva:ping>'
    )
    assert signed_broker.post(signed(signed_broker, body)).status == 200
