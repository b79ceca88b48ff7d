"""The signed profile (2W-be-S) through the whole HTTP pipeline: what the verifier and the trust
store decide (tests/wss, tests/pki) also decides the answer on the wire, in the check order of docs/rules.md."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from lxml import etree

from broker.edukoppeling.faults import WsSecurityFault
from broker.edukoppeling.response import to_bytes
from broker.edukoppeling.wss.signer import Signer
from tests.edukoppeling.conftest import SCHOOL_A, VO, envelop

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"


def signed(
    broker, body: bytes | None = None, oin: str = SCHOOL_A, map: str = "", now: datetime | None = None
) -> bytes:
    root = etree.fromstring(body or envelop())
    pki = broker.pki / map
    Signer((pki / f"{oin}.key.pem").read_bytes(), (pki / f"{oin}.cert.pem").read_bytes()).sign(
        root, now or datetime.now(UTC)
    )
    return to_bytes(root)


def test_ondertekend_verzoek_geeft_ondertekend_antwoord(ondertekende_broker):
    response = ondertekende_broker.post(signed(ondertekende_broker), soapaction=f'"{VO}ping"')
    assert response.status == 200
    root = etree.fromstring(response.body)
    assert root.find(f".//{{{WSSE}}}Security/{{{DS}}}Signature") is not None


def test_h10_onondertekend_verzoek_op_ondertekende_dienst(ondertekende_broker):
    response = ondertekende_broker.post(envelop())
    assert (response.status, response.faultcode) == (500, "soap:Client.EK0031")
    # S9: the fault itself is signed.
    assert etree.fromstring(response.body).find(f".//{{{DS}}}Signature") is not None


def test_h57_verlopen_tijdstempel_over_http(ondertekende_broker):
    old = signed(ondertekende_broker, now=datetime.now(UTC) - timedelta(seconds=400))
    assert ondertekende_broker.post(old).faultcode == "soap:Client.EK0031"


def test_h1_verplaatste_body_over_http(ondertekende_broker):
    root = etree.fromstring(signed(ondertekende_broker))
    soap = "http://schemas.xmlsoap.org/soap/envelope/"
    body = root.find(f"{{{soap}}}Body")
    wrapper = etree.SubElement(root.find(f"{{{soap}}}Header"), "{urn:x}Wrapper")
    wrapper.append(body)
    new = etree.SubElement(root, f"{{{soap}}}Body")
    etree.SubElement(new, "{urn:nl:vva:aanmelden:v1}ping")
    # The wrapper is an unknown header: caught even before the signature (DK0010); either way refused.
    assert ondertekende_broker.post(to_bytes(root)).faultcode in (
        "soap:Client.DK0010",
        "soap:Client.EK0031",
    )


def test_h44_h46_h47_certificaten_die_niet_deugen(ondertekende_broker):
    for variant, code in [
        ("zelfondertekend", "soap:Client.EK0031"),
        ("verlopen", "soap:Client.EK0031"),
        ("ingetrokken", "soap:Client.EK0031"),
        ("vreemde-ca", "soap:Client.EK0031"),
        ("zonder-oin", "soap:Client.EK0030"),
    ]:
        response = ondertekende_broker.post(signed(ondertekende_broker, oin=variant, map="test"))
        assert (variant, response.faultcode) == (variant, code)


def test_h48_getekend_door_een_andere_partij_zonder_mandaat(ondertekende_broker):
    # School 99XC signs a message on behalf of school 99XA: no mandate.
    response = ondertekende_broker.post(signed(ondertekende_broker, oin="0000000700099XC00000"))
    assert response.faultcode == "soap:Client.DK0002"
    # The supplier 00000099000000000077 holds a mandate for 99XA.
    assert (
        ondertekende_broker.post(signed(ondertekende_broker, oin="00000099000000000077")).status == 200
    )


def test_volgorde_twee_fouten_geven_altijd_dezelfde_code(ondertekende_broker):
    """The check order (docs/rules.md): addressing before security before authorisation before XSD."""
    # An invalid MessageID (EK0023) in an unsigned message (EK0031) to a foreign From (DK0002): EK0023.
    body = envelop(message_id="geen-uuid", van="0000000700099XC00000")
    assert ondertekende_broker.post(body).faultcode == "soap:Client.EK0023"
    # A valid signature by the wrong party (DK0002) on a Body that violates the XSD (DK0004): DK0002.
    fout_body = envelop('<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:onbekend/></vva:ping>')
    response = ondertekende_broker.post(
        signed(ondertekende_broker, fout_body, oin="0000000700099XC00000")
    )
    assert response.faultcode == "soap:Client.DK0002"
    # Signed by the right party, the same Body: now the XSD speaks.
    assert (
        ondertekende_broker.post(signed(ondertekende_broker, fout_body)).faultcode
        == "soap:Client.DK0004"
    )
    # The same message twice gives the same code.
    message_id = f"urn:uuid:{uuid.uuid4()}"
    twee = [
        ondertekende_broker.post(envelop(message_id=message_id, to="https://x.example")).faultcode
        for _ in range(2)
    ]
    assert twee == ["soap:Client.EK0022", "soap:Client.EK0022"]


def test_m2_mandaat_beperkt_tot_acties(ondertekende_broker):
    """The regional system may ask for school 99XA but not deliver for it (demo mandate)."""
    regio = "00000099000000000042"
    queries = envelop(
        '<vva:opvragenStatus xmlns:vva="urn:nl:vva:aanmelden:v1"/>', action=VO + "opvragenStatus"
    )
    assert ondertekende_broker.post(signed(ondertekende_broker, queries, oin=regio)).status == 200
    leveren = envelop(
        '<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling><vva:volgnummer>1</vva:volgnummer>'
        "<vva:bsn>111222333</vva:bsn><vva:brinVo>99XA</vva:brinVo><vva:postcode>1011AB</vva:postcode>"
        "<vva:woongemeente>0363</vva:woongemeente><vva:mutatie>toevoegen</vva:mutatie></vva:leerling></vva:aanleverenLeerlingen>",
        action=VO + "aanleverenLeerlingen",
    )
    response = ondertekende_broker.post(signed(ondertekende_broker, leveren, oin=regio))
    assert response.faultcode == "soap:Client.DK0002"
    assert ondertekende_broker.scalar("SELECT count(*) FROM leerling") == 0


def test_h64_opnieuw_gecodeerde_handtekening_is_nog_steeds_een_herhaling(ondertekende_broker):
    """The same signature written with other spare bits in its base64 is the same signature."""
    data = signed(ondertekende_broker)
    assert ondertekende_broker.post(data).status == 200
    root = etree.fromstring(data)
    waarde = root.find(f".//{{{DS}}}SignatureValue")
    text = "".join(waarde.text.split())
    alfabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    without = text.rstrip("=")
    ongebruikt = (6 * len(without)) % 8  # spare low bits in the last character
    laatste = alfabet.index(without[-1])
    ander = alfabet[laatste ^ 1] if ongebruikt else without[-1]
    assert ander != without[-1]
    waarde.text = without[:-1] + ander + text[len(without) :]
    assert ondertekende_broker.post(to_bytes(root)).faultcode == "soap:Client.EK0031"


def test_h10_h64_the_message_log_records_the_ws_security_class_before_the_reason(ondertekende_broker):
    """The WS-Security class travels as ``EdukoppelingFault.wss``; the message log's text is unchanged:
    the class's QName, one space, the reason."""
    laatste = "SELECT reden FROM bericht WHERE richting = 'in' ORDER BY id DESC LIMIT 1"
    assert ondertekende_broker.post(envelop()).faultcode == "soap:Client.EK0031"
    zonder_handtekening = ondertekende_broker.scalar(laatste)
    data = signed(ondertekende_broker)
    assert ondertekende_broker.post(data).status == 200
    assert ondertekende_broker.post(data).faultcode == "soap:Client.EK0031"
    herhaling = ondertekende_broker.scalar(laatste)
    assert (zonder_handtekening, herhaling) == (
        "wsse:InvalidSecurity no wsse:Security header",
        "wsse:InvalidSecurity replay of an applied message",
    )
    assert (zonder_handtekening, herhaling) == (
        f"{WsSecurityFault.INVALID_SECURITY.value} no wsse:Security header",
        f"{WsSecurityFault.INVALID_SECURITY.value} replay of an applied message",
    )


def test_h113_commentaar_voor_de_operatie_in_de_body(ondertekende_broker):
    body = envelop(
        '<!-- opmerking --><vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo>x</vva:echo></vva:ping>'
    )
    assert ondertekende_broker.post(signed(ondertekende_broker, body)).status == 200
