"""Hostile and tricky inputs (the H rules of docs/rules.md) against a real broker over HTTP.

Each test is named after its H-number. Transport security (signatures, TLS) is issue 3: the
services run in profile 2W-be here, so only the framing, parser, envelope and addressing rows apply.
"""

from __future__ import annotations

import gzip
import uuid

import pytest

from tests.edukoppeling.conftest import BROKER, SCHOOL_A, VO, envelop
from tests.helpers import bsn

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def fault(broker, body: bytes, **kw) -> tuple[int, str | None]:
    response = broker.post(body, **kw)
    return response.status, response.faultcode


def test_geldig_verzoek_wordt_geaccepteerd(broker):
    response = broker.post(envelop(), soapaction=f'"{VO}ping"')
    assert response.status == 200 and response.faultcode is None
    assert response.headers["content-type"] == "text/xml; charset=UTF-8"


# --- D. WS-Addressing ------------------------------------------------------------------------


def test_H13_dubbele_wsa_header(broker):
    extra = f"<wsa:To>https://evil.example?oin={BROKER}</wsa:To>"
    assert fault(broker, envelop(extra_headers=extra)) == (500, "soap:Client.DK0011")


@pytest.mark.parametrize(
    ("weglaten", "code"),
    [
        ("to", "soap:Client.DK0005"),
        ("action", "soap:Client.DK0006"),
        ("message_id", "soap:Client.DK0007"),
        ("van", "soap:Client.EK0020"),
    ],
)
def test_H68_ontbrekende_wsa_headers(broker, weglaten, code):
    args = {weglaten: None if weglaten != "message_id" else ""}
    assert fault(broker, envelop(**args)) == (500, code)


def test_H69_oude_ws_addressing_namespace(broker):
    old = envelop().replace(
        b"http://www.w3.org/2005/08/addressing", b"http://schemas.xmlsoap.org/ws/2004/08/addressing"
    )
    assert fault(broker, old) == (500, "soap:Client.DK0005")


def test_H70_to_met_ander_oin_of_ongeldig_oin(broker):
    assert fault(broker, envelop(to="https://vva.example/x?oin=00000099000000000999")) == (
        500,
        "soap:Client.DK0011",
    )
    assert fault(broker, envelop(to="https://vva.example/x?oin=0000009900000000001a")) == (
        500,
        "soap:Client.EK0022",
    )
    assert fault(broker, envelop(to="https://vva.example/x")) == (500, "soap:Client.EK0022")


def test_H71_anonieme_to_met_oin_in_elke_hoofdletters(broker):
    for sleutel in ("oin", "OIN"):
        to = f"http://www.w3.org/2005/08/addressing/anonymous?{sleutel}={BROKER}"
        assert fault(broker, envelop(to=to)) == (200, None)


def test_H72_replyto_naar_intern_adres(broker):
    extra = "<wsa:ReplyTo><wsa:Address>http://169.254.169.254/latest</wsa:Address></wsa:ReplyTo>"
    assert fault(broker, envelop(extra_headers=extra)) == (500, "soap:Client.DK0011")
    anonymous = (
        "<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>"
    )
    assert fault(broker, envelop(extra_headers=anonymous)) == (200, None)


def test_H73_epr_met_reference_parameters(broker):
    body = envelop().replace(
        b"</wsa:Address></wsa:From>", b"</wsa:Address><wsa:ReferenceParameters/></wsa:From>"
    )
    assert fault(broker, body) == (500, "soap:Client.DK0011")


def test_H74_soapaction_en_action_verschillen_of_body_past_niet(broker):
    assert fault(broker, envelop(), soapaction=f'"{VO}opvragenStatus"') == (500, "soap:Client.DK0003")
    status = '<vva:opvragenStatus xmlns:vva="urn:nl:vva:aanmelden:v1"/>'
    assert fault(broker, envelop(status, action=VO + "ping")) == (500, "soap:Client.DK0004")


def test_H75_enorme_message_id(broker):
    assert fault(broker, envelop(message_id="urn:uuid:" + "a" * 100_000)) == (500, "soap:Client.EK0023")


def test_EK0023_message_id_geen_uuid_maar_kale_uuid_mag(broker):
    assert fault(broker, envelop(message_id="bericht-1")) == (500, "soap:Client.EK0023")
    assert fault(broker, envelop(message_id=str(uuid.uuid4()).upper())) == (200, None)


def test_EK0021_from_zonder_geldig_oin(broker):
    assert fault(broker, envelop(van="0000000700099xa00000")) == (500, "soap:Client.EK0021")


def test_DK0011_onbekende_action(broker):
    assert fault(broker, envelop(action="urn:nl:vva:aanmelden:v1/mbo/ping")) == (500, "soap:Client.DK0011")


def test_DK0002_afzender_niet_van_deze_dienst(broker):
    # An MBO institution calling the VO service, and an unknown OIN: the same answer.
    mbo = fault(broker, envelop(van="0000000700099XB00000"))
    unknown = fault(broker, envelop(van="00000099000000000999"))
    assert mbo == unknown == (500, "soap:Client.DK0002")


# --- E. Parser and resource exhaustion ---------------------------------------------------------


def test_H77_doctype(broker):
    body = b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE x []>' + envelop()
    assert fault(broker, body) == (500, "soap:VersionMismatch.DK0001")


def test_H78_billion_laughs(broker):
    bom = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>' + envelop(
        '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo>&lol2;</vva:echo></vva:ping>'
    )
    assert fault(broker, bom) == (500, "soap:VersionMismatch.DK0001")


def test_H80_externe_entiteit(broker):
    body = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + envelop(
        '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo>&e;</vva:echo></vva:ping>'
    )
    response = broker.post(body)
    assert (response.status, response.faultcode) == (500, "soap:VersionMismatch.DK0001")
    assert b"root:" not in response.body


def test_H84_processing_instruction(broker):
    body = envelop('<?xml-stylesheet href="x"?><vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"/>')
    assert fault(broker, body) == (500, "soap:VersionMismatch.DK0001")


def test_H85_xinclude_in_body(broker):
    body = envelop(
        '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/></vva:ping>'
    )
    assert fault(broker, body) == (500, "soap:Client.DK0004")


def test_H86_diepe_nesting(broker):
    diep = "<a>" * 1000 + "</a>" * 1000
    assert fault(broker, envelop(f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1">{diep}</vva:ping>')) == (
        500,
        "soap:VersionMismatch.DK0001",
    )


def test_H87_te_veel_attributen(broker):
    attributes = " ".join(f'a{i}="x"' for i in range(600))
    assert fault(broker, envelop(f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1" {attributes}/>')) == (
        500,
        "soap:VersionMismatch.DK0001",
    )


def test_H22_soap_encoding_multiref(broker):
    body = envelop('<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo href="#id1"/></vva:ping>')
    assert fault(broker, body) == (500, "soap:Client.DK0004")


# --- F. HTTP and SOAP framing -----------------------------------------------------------------


def test_H91_gecomprimeerd_verzoek(broker):
    response = broker.post(gzip.compress(envelop()), headers={"Content-Encoding": "gzip"})
    assert response.status == 415


def test_H92_te_groot_verzoek(broker):
    groot = envelop(
        f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo>{"x" * (11 * 1024 * 1024)}</vva:echo></vva:ping>'
    )
    assert broker.post(groot).status == 413
    assert (
        broker.post(iter([groot[i : i + 65536] for i in range(0, len(groot), 65536)]), chunked=True).status
        == 413
    )
    # A chunked request under the cap, without Content-Length, is accepted.
    assert broker.post(iter([envelop()]), chunked=True, soapaction=f'"{VO}ping"').status == 200


def test_H96_get_bereikt_geen_operatie(broker):
    assert broker.post(b"", method="GET", path="/vva/vo/v1?op=opvragenStatus").status == 405
    assert broker.post(b"", method="PUT").status == 405


def test_H97_soap12_envelop(broker):
    body = envelop(envelope_ns="http://www.w3.org/2003/05/soap-envelope")
    assert fault(broker, body) == (500, "soap:VersionMismatch.DK0001")
    assert fault(broker, envelop(), content_type="application/soap+xml; charset=utf-8") == (
        500,
        "soap:VersionMismatch.DK0001",
    )


def test_H98_andere_media_types(broker):
    assert broker.post(envelop(), content_type="application/xml").status == 415
    assert broker.post(envelop(), content_type="text/xml").status == 200  # no charset is allowed (T5)


def test_H99_andere_charset_of_utf16(broker):
    assert fault(broker, envelop(), content_type="text/xml; charset=ISO-8859-1") == (
        500,
        "soap:Client.DK0009",
    )
    assert fault(broker, envelop().decode().encode("utf-16")) == (500, "soap:Client.DK0009")


def test_H100_declaratie_en_charset_verschillen(broker):
    body = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + envelop()
    assert fault(broker, body) == (500, "soap:Client.DK0009")


def test_H101_utf8_met_bom(broker):
    body = b"\xef\xbb\xbf" + b'<?xml version="1.0" encoding="UTF-8"?>' + envelop()
    assert fault(broker, body) == (200, None)


def test_H102_ongeldige_utf8_en_controletekens(broker):
    assert fault(broker, envelop().replace(b">x<", b">\xc0\xaf<")) == (500, "soap:Client.DK0009")
    assert fault(broker, envelop().replace(b">x<", b">\x01<")) == (500, "soap:Client.DK0009")


def test_H103_soapaction_ontbreekt_ongequote_of_anders(broker):
    assert fault(broker, envelop(), soapaction=None) == (500, "soap:Client.DK0003")
    assert fault(broker, envelop(), soapaction=f"{VO}ping") == (500, "soap:Client.DK0003")
    assert fault(broker, envelop(), soapaction='"None"') == (500, "soap:Client.DK0003")
    assert fault(broker, envelop(), soapaction=f'"{VO}ping"') == (200, None)


def test_H104_H106_onbekende_header_met_mustunderstand_1_en_true(broker):
    for waarde in ("1", "true"):  # H106: both lexical forms
        extra = f'<x:Eigen xmlns:x="urn:x" soap:mustUnderstand="{waarde}"/>'
        assert fault(broker, envelop(extra_headers=extra)) == (500, "soap:MustUnderstand")


def test_H105_onbekende_header_zonder_mustunderstand(broker):
    assert fault(broker, envelop(extra_headers='<x:Eigen xmlns:x="urn:x"/>')) == (500, "soap:Client.DK0010")


def test_S0_security_header_op_2w_be_dienst(broker):
    extra = f'<wsse:Security xmlns:wsse="{WSSE}"/>'
    assert fault(broker, envelop(extra_headers=extra)) == (500, "soap:Client.DK0010")


def test_H107_body_met_nul_of_twee_kinderen_en_twee_bodies(broker):
    assert fault(broker, envelop("")) == (500, "soap:Client.DK0004")
    twee = '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"/><vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"/>'
    assert fault(broker, envelop(twee)) == (500, "soap:Client.DK0004")
    dubbel = envelop().replace(b"</soap:Envelope>", b"<soap:Body/></soap:Envelope>")
    assert fault(broker, dubbel) == (500, "soap:VersionMismatch.DK0001")


def test_H108_inhoud_na_de_envelop(broker):
    assert fault(broker, envelop() + b"<extra/>") == (500, "soap:VersionMismatch.DK0001")


# --- G. Inputs that must be accepted, read as a whole -------------------------------------------


def test_H114_H115_bsn_gesplitst_door_commentaar_wordt_heel_gelezen(broker):
    nummer = bsn("22233344")
    gesplitst = f"{nummer[:4]}<!-- -->{nummer[4:]}"
    levering = (
        '<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling><vva:volgnummer>1</vva:volgnummer>'
        f"<vva:bsn>{gesplitst}</vva:bsn><vva:brinVo>99XA</vva:brinVo><vva:postcode>1011AB</vva:postcode>"
        "<vva:woongemeente>0363</vva:woongemeente><vva:mutatie>toevoegen</vva:mutatie></vva:leerling></vva:aanleverenLeerlingen>"
    )
    response = broker.post(envelop(levering, action=VO + "aanleverenLeerlingen"))
    assert response.status == 200 and b"<tns:verwerkt>true</tns:verwerkt>" in response.body
    status = f'<vva:opvragenStatus xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling><vva:bsn>{nummer}</vva:bsn></vva:leerling></vva:opvragenStatus>'
    response = broker.post(envelop(status, action=VO + "opvragenStatus"))
    assert response.status == 200 and f"<tns:bsn>{nummer}</tns:bsn>".encode() in response.body


# --- Bad input loses nothing and applies nothing ---------------------------------------------------


def test_fout_bewaart_het_ruwe_bericht_en_past_niets_toe(broker):
    nummer = bsn("33344455")
    levering = (
        '<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling><vva:volgnummer>1</vva:volgnummer>'
        f"<vva:bsn>{nummer}</vva:bsn><vva:brinVo>99XA</vva:brinVo><vva:postcode>1011AB</vva:postcode>"
        "<vva:woongemeente>0363</vva:woongemeente><vva:mutatie>toevoegen</vva:mutatie></vva:leerling>"
        "<vva:leerling><vva:volgnummer>2</vva:volgnummer><vva:bsn>111222333</vva:bsn><vva:brinVo>99XC</vva:brinVo>"
        "<vva:postcode>3011AA</vva:postcode><vva:woongemeente>0599</vva:woongemeente><vva:mutatie>toevoegen</vva:mutatie>"
        "</vva:leerling></vva:aanleverenLeerlingen>"
    )
    message_id = f"urn:uuid:{uuid.uuid4()}"
    leerlingen_voor = broker.scalar("SELECT count(*) FROM leerling")
    response = broker.post(envelop(levering, action=VO + "aanleverenLeerlingen", message_id=message_id))
    # Record 2 names school 99XC, which 99XA does not act for: the whole message is refused (M4).
    assert (response.status, response.faultcode, response.faultstring) == (
        500,
        "soap:Client.DK0002",
        "Niet geautoriseerd",
    )
    assert b"99XC" in response.body and nummer.encode() not in response.body
    assert broker.scalar("SELECT count(*) FROM leerling") == leerlingen_voor
    assert (
        broker.scalar("SELECT uitkomst FROM bericht WHERE message_id = :m AND richting = 'in'", m=message_id)
        == "Client.DK0002"
    )
    opgeslagen = bytes(
        broker.scalar("SELECT inhoud FROM bericht WHERE message_id = :m AND richting = 'in'", m=message_id)
    )
    # The raw message is kept whole, but only encrypted: no BSN in the database in clear text.
    assert nummer.encode() not in opgeslagen
    assert nummer.encode() in broker.ontsleuteld(opgeslagen)
    assert (
        broker.scalar("SELECT count(*) FROM bericht WHERE relates_to = :m AND richting = 'uit'", m=message_id)
        == 1
    )


def test_ongeldige_xml_wordt_ook_bewaard(broker):
    voor = broker.scalar(
        "SELECT count(*) FROM bericht WHERE uitkomst = 'VersionMismatch.DK0001' AND richting = 'in'"
    )
    assert fault(broker, b"<niet-af") == (500, "soap:VersionMismatch.DK0001")
    assert (
        broker.scalar(
            "SELECT count(*) FROM bericht WHERE uitkomst = 'VersionMismatch.DK0001' AND richting = 'in'"
        )
        == voor + 1
    )


def test_DK0004_detail_noemt_pad_en_toegestane_waarden_maar_niet_de_waarde(broker):
    nummer = bsn("44455566")
    levering = (
        '<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling>'
        f"<vva:volgnummer>{nummer}x</vva:volgnummer><vva:bsn>{nummer}</vva:bsn><vva:brinVo>99XA</vva:brinVo>"
        "<vva:postcode>1011AB</vva:postcode><vva:woongemeente>0363</vva:woongemeente>"
        "<vva:mutatie>toevoegen</vva:mutatie></vva:leerling></vva:aanleverenLeerlingen>"
    )
    response = broker.post(envelop(levering, action=VO + "aanleverenLeerlingen"))
    assert response.faultcode == "soap:Client.DK0004"
    assert b"/vva:aanleverenLeerlingen/vva:leerling/vva:volgnummer" in response.body
    assert nummer.encode() not in response.body
    mutatie = levering.replace(f"{nummer}x", "1").replace("toevoegen", "verwijderen")
    response = broker.post(envelop(mutatie, action=VO + "aanleverenLeerlingen"))
    assert b"'toevoegen', 'wijzigen', 'afmelden'" in response.body and b"verwijderen" not in response.body


# --- Found by breaking it (H rules, and the rules behind them) --------------------------------------


def test_H92_kapotte_chunked_framing_geeft_400_en_geen_bsn_in_de_log(broker):
    nummer = bsn("55566677")
    soap_request = (
        b'POST /vva/vo/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nSOAPAction: ""\r\n'
        b"Transfer-Encoding: chunked\r\n\r\n<a><bsn>" + nummer.encode() + b"</bsn></a>\r\n0\r\n\r\n"
    )
    response = broker.rauw(soap_request)
    assert response.startswith(b"HTTP/1.1 400")
    assert nummer.encode() not in response and nummer.encode() not in broker.log.read_bytes()


def test_gunicorn_log_maskeert_een_bsn_in_een_kapotte_header(broker):
    nummer = bsn("66677788")
    broker.rauw(b"POST /vva/vo/v1 HTTP/1.1\r\nHost: x\r\nkapotte header " + nummer.encode() + b"\r\n\r\n")
    assert nummer.encode() not in broker.log.read_bytes()


def test_post_zonder_lengte_of_chunked_is_411(broker):
    response = broker.rauw(
        b'POST /vva/vo/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nSOAPAction: ""\r\n\r\n'
    )
    assert response.startswith(b"HTTP/1.1 411")


def test_wsdl_adres_uit_host_header_kan_niets_injecteren(broker):
    response = broker.post(
        b"", method="GET", path="/vva/vo/v1?wsdl", headers={"Host": 'evil.example/x"/><a b="'}
    )
    assert response.status == 400 and b"<a b=" not in response.body


def test_H69_oude_ws_addressing_header_naast_een_volledige_set(broker):
    old = '<w04:ReplyTo xmlns:w04="http://schemas.xmlsoap.org/ws/2004/08/addressing"><w04:Address>http://169.254.169.254/</w04:Address></w04:ReplyTo>'
    assert fault(broker, envelop(extra_headers=old)) == (500, "soap:Client.DK0010")
    mandatory = (
        '<w04:Iets xmlns:w04="http://schemas.xmlsoap.org/ws/2004/08/addressing" soap:mustUnderstand="1"/>'
    )
    assert fault(broker, envelop(extra_headers=mandatory)) == (500, "soap:MustUnderstand")


def test_H104_onbekende_wsa_header_met_mustunderstand_en_spaties(broker):
    extra = '<wsa:Iets soap:mustUnderstand="1">http://www.w3.org/2005/08/addressing/anonymous</wsa:Iets>'
    assert fault(broker, envelop(extra_headers=extra)) == (500, "soap:MustUnderstand")
    spaties = '<x:Eigen xmlns:x="urn:x" soap:mustUnderstand=" 1 "/>'
    assert fault(broker, envelop(extra_headers=spaties)) == (500, "soap:MustUnderstand")


def test_S0_security_met_mustunderstand_op_2w_be_is_dk0010(broker):
    extra = f'<wsse:Security xmlns:wsse="{WSSE}" soap:mustUnderstand="1"/>'
    assert fault(broker, envelop(extra_headers=extra)) == (500, "soap:Client.DK0010")


def test_H68_ontbrekende_to_gaat_voor_onbekende_wsa_header(broker):
    extra = "<wsa:Iets>http://example/x</wsa:Iets>"
    assert fault(broker, envelop(to=None, extra_headers=extra)) == (500, "soap:Client.DK0005")


def test_EK0023_alleen_de_8_4_4_4_12_vorm(broker):
    for waarde in ("----0f0f0f0f11114222833300000000000a", "urn:uuid:0f0f0f0f1111422283330000-0000-000a--"):
        assert fault(broker, envelop(message_id=waarde)) == (500, "soap:Client.EK0023")


def test_A9_relates_to_alleen_als_message_id_en_antwoordrelatie(broker):
    foreign = f'<wsa:RelatesTo RelationshipType="urn:evil">urn:uuid:{uuid.uuid4()}</wsa:RelatesTo>'
    assert fault(broker, envelop(extra_headers=foreign)) == (500, "soap:Client.DK0011")
    lang = f"<wsa:RelatesTo>urn:uuid:{'a' * 2000}</wsa:RelatesTo>"
    assert fault(broker, envelop(extra_headers=lang)) == (500, "soap:Client.DK0011")
    good = f"<wsa:RelatesTo>urn:uuid:{uuid.uuid4()}</wsa:RelatesTo>"
    assert fault(broker, envelop(extra_headers=good)) == (200, None)


def test_A3_relatief_adres_in_from(broker):
    body = envelop().replace(b"http://www.w3.org/2005/08/addressing/anonymous?oin=", b"?oin=")
    assert fault(broker, body) == (500, "soap:Client.DK0011")


def test_F5_fout_in_adressering_draagt_relates_to_en_to(broker):
    message_id = f"urn:uuid:{uuid.uuid4()}"
    response = broker.post(envelop(message_id=message_id), soapaction=f'"{VO}opvragenStatus"')
    assert response.faultcode == "soap:Client.DK0003"
    assert f">{message_id}</wsa:RelatesTo>".encode() in response.body
    assert f"anonymous?oin={SCHOOL_A}</wsa:To>".encode() in response.body


def test_H87_namespacedeclaraties_en_H88_grote_attribuutwaarde(broker):
    ns = " ".join(f'xmlns:p{i}="urn:p{i}"' for i in range(600))
    assert fault(broker, envelop(f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1" {ns}/>')) == (
        500,
        "soap:VersionMismatch.DK0001",
    )
    groot = envelop().replace(b"<wsa:Action>", b'<wsa:Action a="' + b"x" * 70_000 + b'">')
    assert fault(broker, groot) == (500, "soap:VersionMismatch.DK0001")


def test_H87_herhaalde_namespacedeclaraties_tellen_mee(broker):
    # Two ancestors declare 300 prefixes each; the leaf declares all 600 again (other URIs) and 300 with
    # the same URI: the tree's nsmap shows the leaf no new prefix, the limit counts every declaration.
    voorouders = [" ".join(f'xmlns:p{j}_{i}="urn:{i}"' for i in range(300)) for j in range(2)]
    again = " ".join(f'xmlns:p{j}_{i}="urn:ander{i}"' for j in range(2) for i in range(300))
    body = (
        f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:a {voorouders[0]}><vva:b {voorouders[1]}>'
        f"<vva:c {again}/></vva:b></vva:a></vva:ping>"
    )
    assert fault(broker, envelop(body)) == (500, "soap:VersionMismatch.DK0001")
    attributes = " ".join(f'a{i}="x"' for i in range(250))
    zelfde = (  # 300 declarations repeated with the same URIs, plus 250 attributes: 550 on one element
        f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:a {voorouders[0]}>'
        f"<vva:c {voorouders[0]} {attributes}/></vva:a></vva:ping>"
    )
    assert fault(broker, envelop(zelfde)) == (500, "soap:VersionMismatch.DK0001")


def test_H89_te_veel_elementen_wordt_geweigerd_voor_de_boom_bestaat(broker):
    veel = "<a/>" * 600_000
    assert fault(broker, envelop(f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1">{veel}</vva:ping>')) == (
        500,
        "soap:VersionMismatch.DK0001",
    )


def test_H100_charset_twee_keer(broker):
    assert fault(broker, envelop(), content_type="text/xml; charset=utf-8; charset=iso-8859-1") == (
        500,
        "soap:Client.DK0009",
    )


def test_H107_tekst_naast_de_body_inhoud_en_encodingstyle_op_envelop(broker):
    assert fault(broker, envelop('tekst<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"/>')) == (
        500,
        "soap:VersionMismatch.DK0001",
    )
    stijl = envelop().replace(
        b"<soap:Envelope ", b'<soap:Envelope soap:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" '
    )
    assert fault(broker, stijl) == (500, "soap:Client.DK0004")


def test_lange_headernaam_geeft_op_elke_database_hetzelfde_antwoord(broker):
    lang = f'<x:{"n" * 300} xmlns:x="urn:x"/>'
    assert fault(broker, envelop(extra_headers=lang)) == (500, "soap:Client.DK0010")


def test_dubbel_volgnummer_is_dk0004(broker):
    record = (
        "<vva:leerling><vva:volgnummer>1</vva:volgnummer><vva:bsn>{}</vva:bsn><vva:brinVo>99XA</vva:brinVo>"
        "<vva:postcode>1011AB</vva:postcode><vva:woongemeente>0363</vva:woongemeente><vva:mutatie>toevoegen</vva:mutatie></vva:leerling>"
    )
    body = f'<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1">{record.format(bsn("77788899"))}{record.format(bsn("77788890"))}</vva:aanleverenLeerlingen>'
    assert fault(broker, envelop(body, action=VO + "aanleverenLeerlingen")) == (500, "soap:Client.DK0004")


def test_DK0004_detail_zonder_bsn_ook_met_aanhalingsteken(broker):
    nummer = bsn("88899900")
    body = f'<vva:opvragenWijzigingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:vanafCursor>x\'{nummer}</vva:vanafCursor></vva:opvragenWijzigingen>'
    response = broker.post(envelop(body, action=VO + "opvragenWijzigingen"))
    assert response.faultcode == "soap:Client.DK0004" and nummer.encode() not in response.body


def test_boolean_en_datum_met_witruimte_betekenen_wat_het_xsd_zegt(broker):
    een, twee = bsn("99900011"), bsn("99900022")

    def levering(numbers, replace):
        records = "".join(
            f"<vva:leerling><vva:volgnummer>{i}</vva:volgnummer><vva:bsn>{n}</vva:bsn><vva:brinVo>99XA</vva:brinVo>"
            "<vva:postcode>1011AB</vva:postcode><vva:woongemeente>0363</vva:woongemeente>"
            f"<vva:mutatie>{'wijzigen' if replace else 'toevoegen'}</vva:mutatie></vva:leerling>"
            for i, n in enumerate(numbers, start=1)
        )
        header = f"<vva:vervangStartpopulatie>\n  {replace}\n</vva:vervangStartpopulatie>" if replace else ""
        return envelop(
            f'<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1">{header}{records}</vva:aanleverenLeerlingen>',
            action=VO + "aanleverenLeerlingen",
        )

    assert broker.post(levering([een, twee], "")).status == 200
    assert broker.post(levering([een], "true")).status == 200
    afgemeld = broker.scalar(
        "SELECT count(*) FROM leerling WHERE status = 'afgemeld' AND afmeldreden = 'nietMeerAangeleverd'"
    )
    assert afgemeld >= 1
    datum = f'<vva:aanleverenAanmeldingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:aanmelding><vva:volgnummer>1</vva:volgnummer><vva:bsn>{een}</vva:bsn><vva:brinMbo>99XB</vva:brinMbo><vva:status>aangemeld</vva:status><vva:datum> 2026-11-01 </vva:datum></vva:aanmelding></vva:aanleverenAanmeldingen>'
    response = broker.post(
        envelop(
            datum,
            action="urn:nl:vva:aanmelden:v1/mbo/aanleverenAanmeldingen",
            van="0000000700099XB00000",
            to=f"https://vva.example/vva/mbo/v1?oin={BROKER}",
        ),
        path="/vva/mbo/v1",
    )
    assert response.status == 200, response.body


# --- More parser rows: every DTD form is refused before any processing -------------------------------


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE x [<!ENTITY a "' + "a" * 10_000 + '">]>',  # H79 quadratic blowup (referenced below)
        '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',  # H81 external parameter entity
        '<!DOCTYPE soap:Envelope SYSTEM "http://127.0.0.1:9/envelope.dtd">',  # H82 external DTD only
        '<!DOCTYPE x [<!ATTLIST soap:Body wsu:Id CDATA "h-body">]>',  # H83 ATTLIST default attribute
    ],
    ids=["H79", "H81", "H82", "H83"],
)
def test_h79_h81_h82_h83_elke_dtd_vorm(broker, doctype):
    body = doctype.encode() + envelop(
        '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo>x</vva:echo></vva:ping>'
    )
    assert fault(broker, body) == (500, "soap:VersionMismatch.DK0001")


def test_h88_extreem_lange_namen(broker):
    naam = "n" * 100_000
    assert fault(broker, envelop(f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><{naam}/></vva:ping>')) == (
        500,
        "soap:VersionMismatch.DK0001",
    )
    prefix = "p" * 100_000
    body = f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><{prefix}:x xmlns:{prefix}="urn:x"/></vva:ping>'
    assert fault(broker, envelop(body)) == (500, "soap:VersionMismatch.DK0001")


def test_h90_soap_encoded_array(broker):
    body = (
        '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1" xmlns:enc="http://schemas.xmlsoap.org/soap/encoding/">'
        '<vva:echo enc:arrayType="xsd:string[2147483647]"/></vva:ping>'
    )
    assert fault(broker, envelop(body)) == (500, "soap:Client.DK0004")


def test_h109_h111_mtom_en_multipart_worden_niet_aangenomen(broker):
    mime = (
        b'--grens\r\nContent-Type: application/xop+xml; type="text/xml"\r\n\r\n'
        + envelop()
        + b"\r\n--grens--\r\n"
    )
    soort = 'multipart/related; type="application/xop+xml"; boundary=grens; start-info="text/xml"'
    assert broker.post(mime, content_type=soort).status == 415
    dubbel = b"--g\r\nContent-ID: <a>\r\n\r\nx\r\n--g\r\nContent-ID: <a>\r\n\r\ny\r\n--g--\r\n"
    assert broker.post(dubbel, content_type="multipart/related; boundary=g").status == 415


def test_h110_xop_include_wordt_nooit_gevolgd(broker):
    body = (
        '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo><xop:Include '
        'xmlns:xop="http://www.w3.org/2004/08/xop/include" href="file:///etc/passwd"/></vva:echo></vva:ping>'
    )
    response = broker.post(envelop(body))
    assert (response.status, response.faultcode) == (
        500,
        "soap:Client.DK0004",
    ) and b"root:" not in response.body
