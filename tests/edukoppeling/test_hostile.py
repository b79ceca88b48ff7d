"""Hostile and tricky inputs (the H rules of docs/rules.md) against a real broker over HTTP.

Each test is named after its H-number. Transport security (signatures, TLS) is issue 3: the
services run in profile 2W-be here, so only the framing, parser, envelope and addressing rows apply.
"""

from __future__ import annotations

import gzip
import uuid

import pytest

from tests.edukoppeling.conftest import BROKER, SCHOOL_A, VO, build_envelope
from tests.helpers import bsn

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def fault(broker, body: bytes, **kw) -> tuple[int, str | None]:
    response = broker.post(body, **kw)
    return response.status, response.faultcode


def test_valid_request_is_accepted(broker):
    response = broker.post(build_envelope(), soapaction=f'"{VO}ping"')
    assert response.status == 200 and response.faultcode is None
    assert response.headers["content-type"] == "text/xml; charset=UTF-8"


# --- D. WS-Addressing ------------------------------------------------------------------------


def test_H13_duplicate_wsa_header(broker):
    extra = f"<wsa:To>https://evil.example?oin={BROKER}</wsa:To>"
    assert fault(broker, build_envelope(extra_headers=extra)) == (500, "soap:Client.DK0011")


@pytest.mark.parametrize(
    ("omit", "code"),
    [
        ("to", "soap:Client.DK0005"),
        ("action", "soap:Client.DK0006"),
        ("message_id", "soap:Client.DK0007"),
        ("van", "soap:Client.EK0020"),
    ],
)
def test_H68_missing_wsa_headers(broker, omit, code):
    args = {omit: None if omit != "message_id" else ""}
    assert fault(broker, build_envelope(**args)) == (500, code)


def test_H69_old_ws_addressing_namespace(broker):
    old = build_envelope().replace(
        b"http://www.w3.org/2005/08/addressing", b"http://schemas.xmlsoap.org/ws/2004/08/addressing"
    )
    assert fault(broker, old) == (500, "soap:Client.DK0005")


def test_H70_to_with_another_oin_or_invalid_oin(broker):
    assert fault(broker, build_envelope(to="https://vva.example/x?oin=00000099000000000999")) == (
        500,
        "soap:Client.DK0011",
    )
    assert fault(broker, build_envelope(to="https://vva.example/x?oin=0000009900000000001a")) == (
        500,
        "soap:Client.EK0022",
    )
    assert fault(broker, build_envelope(to="https://vva.example/x")) == (500, "soap:Client.EK0022")


def test_H71_anonymous_to_with_oin_in_any_case(broker):
    for sleutel in ("oin", "OIN"):
        to = f"http://www.w3.org/2005/08/addressing/anonymous?{sleutel}={BROKER}"
        assert fault(broker, build_envelope(to=to)) == (200, None)


def test_H72_replyto_to_internal_address(broker):
    extra = "<wsa:ReplyTo><wsa:Address>http://169.254.169.254/latest</wsa:Address></wsa:ReplyTo>"
    assert fault(broker, build_envelope(extra_headers=extra)) == (500, "soap:Client.DK0011")
    anonymous = (
        "<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>"
    )
    assert fault(broker, build_envelope(extra_headers=anonymous)) == (200, None)


def test_H73_epr_with_reference_parameters(broker):
    body = build_envelope().replace(
        b"</wsa:Address></wsa:From>", b"</wsa:Address><wsa:ReferenceParameters/></wsa:From>"
    )
    assert fault(broker, body) == (500, "soap:Client.DK0011")


def test_H74_soapaction_and_action_differ_or_body_does_not_fit(broker):
    assert fault(broker, build_envelope(), soapaction=f'"{VO}opvragenStatus"') == (500, "soap:Client.DK0003")
    status = '<vva:opvragenStatus xmlns:vva="urn:nl:vva:aanmelden:v1"/>'
    assert fault(broker, build_envelope(status, action=VO + "ping")) == (500, "soap:Client.DK0004")


def test_H75_huge_message_id(broker):
    assert fault(broker, build_envelope(message_id="urn:uuid:" + "a" * 100_000)) == (500, "soap:Client.EK0023")


def test_EK0023_message_id_not_a_uuid_but_bare_uuid_is_allowed(broker):
    assert fault(broker, build_envelope(message_id="bericht-1")) == (500, "soap:Client.EK0023")
    assert fault(broker, build_envelope(message_id=str(uuid.uuid4()).upper())) == (200, None)


def test_EK0021_from_without_valid_oin(broker):
    assert fault(broker, build_envelope(van="0000000700099xa00000")) == (500, "soap:Client.EK0021")


def test_DK0011_unknown_action(broker):
    assert fault(broker, build_envelope(action="urn:nl:vva:aanmelden:v1/mbo/ping")) == (500, "soap:Client.DK0011")


def test_DK0002_sender_not_of_this_service(broker):
    # An MBO institution calling the VO service, and an unknown OIN: the same answer.
    mbo = fault(broker, build_envelope(van="0000000700099XB00000"))
    unknown = fault(broker, build_envelope(van="00000099000000000999"))
    assert mbo == unknown == (500, "soap:Client.DK0002")


# --- E. Parser and resource exhaustion ---------------------------------------------------------


def test_H77_doctype(broker):
    body = b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE x []>' + build_envelope()
    assert fault(broker, body) == (500, "soap:VersionMismatch.DK0001")


def test_H78_billion_laughs(broker):
    bom = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>' + build_envelope(
        '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo>&lol2;</vva:echo></vva:ping>'
    )
    assert fault(broker, bom) == (500, "soap:VersionMismatch.DK0001")


def test_H80_external_entity(broker):
    body = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + build_envelope(
        '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo>&e;</vva:echo></vva:ping>'
    )
    response = broker.post(body)
    assert (response.status, response.faultcode) == (500, "soap:VersionMismatch.DK0001")
    assert b"root:" not in response.body


def test_H84_processing_instruction(broker):
    body = build_envelope('<?xml-stylesheet href="x"?><vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"/>')
    assert fault(broker, body) == (500, "soap:VersionMismatch.DK0001")


def test_H85_xinclude_in_body(broker):
    body = build_envelope(
        '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/></vva:ping>'
    )
    assert fault(broker, body) == (500, "soap:Client.DK0004")


def test_H86_deep_nesting(broker):
    deep = "<a>" * 1000 + "</a>" * 1000
    assert fault(broker, build_envelope(f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1">{deep}</vva:ping>')) == (
        500,
        "soap:VersionMismatch.DK0001",
    )


def test_H87_too_many_attributes(broker):
    attributes = " ".join(f'a{i}="x"' for i in range(600))
    assert fault(broker, build_envelope(f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1" {attributes}/>')) == (
        500,
        "soap:VersionMismatch.DK0001",
    )


def test_H22_soap_encoding_multiref(broker):
    body = build_envelope('<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo href="#id1"/></vva:ping>')
    assert fault(broker, body) == (500, "soap:Client.DK0004")


# --- F. HTTP and SOAP framing -----------------------------------------------------------------


def test_H91_compressed_request(broker):
    response = broker.post(gzip.compress(build_envelope()), headers={"Content-Encoding": "gzip"})
    assert response.status == 415


def test_H92_request_too_large(broker):
    large = build_envelope(
        f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo>{"x" * (11 * 1024 * 1024)}</vva:echo></vva:ping>'
    )
    assert broker.post(large).status == 413
    assert (
        broker.post(iter([large[i : i + 65536] for i in range(0, len(large), 65536)]), chunked=True).status
        == 413
    )
    # A chunked request under the cap, without Content-Length, is accepted.
    assert broker.post(iter([build_envelope()]), chunked=True, soapaction=f'"{VO}ping"').status == 200


def test_H96_get_reaches_no_operation(broker):
    assert broker.post(b"", method="GET", path="/vva/vo/v1?op=opvragenStatus").status == 405
    assert broker.post(b"", method="PUT").status == 405


def test_H97_soap12_envelope(broker):
    body = build_envelope(envelope_ns="http://www.w3.org/2003/05/soap-envelope")
    assert fault(broker, body) == (500, "soap:VersionMismatch.DK0001")
    assert fault(broker, build_envelope(), content_type="application/soap+xml; charset=utf-8") == (
        500,
        "soap:VersionMismatch.DK0001",
    )


def test_H98_other_media_types(broker):
    assert broker.post(build_envelope(), content_type="application/xml").status == 415
    assert broker.post(build_envelope(), content_type="text/xml").status == 200  # no charset is allowed (T5)


def test_H99_other_charset_or_utf16(broker):
    assert fault(broker, build_envelope(), content_type="text/xml; charset=ISO-8859-1") == (
        500,
        "soap:Client.DK0009",
    )
    assert fault(broker, build_envelope().decode().encode("utf-16")) == (500, "soap:Client.DK0009")


def test_H100_declaration_and_charset_differ(broker):
    body = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + build_envelope()
    assert fault(broker, body) == (500, "soap:Client.DK0009")


def test_H101_utf8_with_bom(broker):
    body = b"\xef\xbb\xbf" + b'<?xml version="1.0" encoding="UTF-8"?>' + build_envelope()
    assert fault(broker, body) == (200, None)


def test_H102_invalid_utf8_and_control_characters(broker):
    assert fault(broker, build_envelope().replace(b">x<", b">\xc0\xaf<")) == (500, "soap:Client.DK0009")
    assert fault(broker, build_envelope().replace(b">x<", b">\x01<")) == (500, "soap:Client.DK0009")


def test_H103_soapaction_missing_unquoted_or_different(broker):
    assert fault(broker, build_envelope(), soapaction=None) == (500, "soap:Client.DK0003")
    assert fault(broker, build_envelope(), soapaction=f"{VO}ping") == (500, "soap:Client.DK0003")
    assert fault(broker, build_envelope(), soapaction='"None"') == (500, "soap:Client.DK0003")
    assert fault(broker, build_envelope(), soapaction=f'"{VO}ping"') == (200, None)


def test_H104_H106_unknown_header_with_mustunderstand_1_and_true(broker):
    for waarde in ("1", "true"):  # H106: both lexical forms
        extra = f'<x:Eigen xmlns:x="urn:x" soap:mustUnderstand="{waarde}"/>'
        assert fault(broker, build_envelope(extra_headers=extra)) == (500, "soap:MustUnderstand")


def test_H105_unknown_header_without_mustunderstand(broker):
    assert fault(broker, build_envelope(extra_headers='<x:Eigen xmlns:x="urn:x"/>')) == (500, "soap:Client.DK0010")


def test_S0_security_header_on_2w_be_service(broker):
    extra = f'<wsse:Security xmlns:wsse="{WSSE}"/>'
    assert fault(broker, build_envelope(extra_headers=extra)) == (500, "soap:Client.DK0010")


def test_H107_body_with_zero_or_two_children_and_two_bodies(broker):
    assert fault(broker, build_envelope("")) == (500, "soap:Client.DK0004")
    two = '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"/><vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"/>'
    assert fault(broker, build_envelope(two)) == (500, "soap:Client.DK0004")
    duplicate = build_envelope().replace(b"</soap:Envelope>", b"<soap:Body/></soap:Envelope>")
    assert fault(broker, duplicate) == (500, "soap:VersionMismatch.DK0001")


def test_H108_content_after_the_envelope(broker):
    assert fault(broker, build_envelope() + b"<extra/>") == (500, "soap:VersionMismatch.DK0001")


# --- G. Inputs that must be accepted, read as a whole -------------------------------------------


def test_H114_H115_bsn_split_by_a_comment_is_read_whole(broker):
    number = bsn("22233344")
    split = f"{number[:4]}<!-- -->{number[4:]}"
    delivery = (
        '<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling><vva:volgnummer>1</vva:volgnummer>'
        f"<vva:bsn>{split}</vva:bsn><vva:brinVo>99XA</vva:brinVo><vva:postcode>1011AB</vva:postcode>"
        "<vva:woongemeente>0363</vva:woongemeente><vva:mutatie>toevoegen</vva:mutatie></vva:leerling></vva:aanleverenLeerlingen>"
    )
    response = broker.post(build_envelope(delivery, action=VO + "aanleverenLeerlingen"))
    assert response.status == 200 and b"<tns:verwerkt>true</tns:verwerkt>" in response.body
    status = f'<vva:opvragenStatus xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling><vva:bsn>{number}</vva:bsn></vva:leerling></vva:opvragenStatus>'
    response = broker.post(build_envelope(status, action=VO + "opvragenStatus"))
    assert response.status == 200 and f"<tns:bsn>{number}</tns:bsn>".encode() in response.body


# --- Bad input loses nothing and applies nothing ---------------------------------------------------


def test_fault_keeps_the_raw_message_and_applies_nothing(broker):
    number = bsn("33344455")
    delivery = (
        '<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling><vva:volgnummer>1</vva:volgnummer>'
        f"<vva:bsn>{number}</vva:bsn><vva:brinVo>99XA</vva:brinVo><vva:postcode>1011AB</vva:postcode>"
        "<vva:woongemeente>0363</vva:woongemeente><vva:mutatie>toevoegen</vva:mutatie></vva:leerling>"
        "<vva:leerling><vva:volgnummer>2</vva:volgnummer><vva:bsn>111222333</vva:bsn><vva:brinVo>99XC</vva:brinVo>"
        "<vva:postcode>3011AA</vva:postcode><vva:woongemeente>0599</vva:woongemeente><vva:mutatie>toevoegen</vva:mutatie>"
        "</vva:leerling></vva:aanleverenLeerlingen>"
    )
    message_id = f"urn:uuid:{uuid.uuid4()}"
    leerlingen_before = broker.scalar("SELECT count(*) FROM leerling")
    response = broker.post(build_envelope(delivery, action=VO + "aanleverenLeerlingen", message_id=message_id))
    # Record 2 names school 99XC, which 99XA does not act for: the whole message is refused (M4).
    assert (response.status, response.faultcode, response.faultstring) == (
        500,
        "soap:Client.DK0002",
        "Niet geautoriseerd",
    )
    assert b"99XC" in response.body and number.encode() not in response.body
    assert broker.scalar("SELECT count(*) FROM leerling") == leerlingen_before
    assert (
        broker.scalar("SELECT uitkomst FROM bericht WHERE message_id = :m AND richting = 'in'", m=message_id)
        == "Client.DK0002"
    )
    stored = bytes(
        broker.scalar("SELECT inhoud FROM bericht WHERE message_id = :m AND richting = 'in'", m=message_id)
    )
    # The raw message is kept whole, but only encrypted: no BSN in the database in clear text.
    assert number.encode() not in stored
    assert number.encode() in broker.decrypted(stored)
    assert (
        broker.scalar("SELECT count(*) FROM bericht WHERE relates_to = :m AND richting = 'uit'", m=message_id)
        == 1
    )


def test_invalid_xml_is_kept_too(broker):
    before = broker.scalar(
        "SELECT count(*) FROM bericht WHERE uitkomst = 'VersionMismatch.DK0001' AND richting = 'in'"
    )
    assert fault(broker, b"<niet-af") == (500, "soap:VersionMismatch.DK0001")
    assert (
        broker.scalar(
            "SELECT count(*) FROM bericht WHERE uitkomst = 'VersionMismatch.DK0001' AND richting = 'in'"
        )
        == before + 1
    )


def test_DK0004_detail_names_path_and_allowed_values_but_not_the_value(broker):
    number = bsn("44455566")
    delivery = (
        '<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:leerling>'
        f"<vva:volgnummer>{number}x</vva:volgnummer><vva:bsn>{number}</vva:bsn><vva:brinVo>99XA</vva:brinVo>"
        "<vva:postcode>1011AB</vva:postcode><vva:woongemeente>0363</vva:woongemeente>"
        "<vva:mutatie>toevoegen</vva:mutatie></vva:leerling></vva:aanleverenLeerlingen>"
    )
    response = broker.post(build_envelope(delivery, action=VO + "aanleverenLeerlingen"))
    assert response.faultcode == "soap:Client.DK0004"
    assert b"/vva:aanleverenLeerlingen/vva:leerling/vva:volgnummer" in response.body
    assert number.encode() not in response.body
    mutation = delivery.replace(f"{number}x", "1").replace("toevoegen", "verwijderen")
    response = broker.post(build_envelope(mutation, action=VO + "aanleverenLeerlingen"))
    assert b"'toevoegen', 'wijzigen', 'afmelden'" in response.body and b"verwijderen" not in response.body


# --- Found by breaking it (H rules, and the rules behind them) --------------------------------------


def test_H92_broken_chunked_framing_gives_400_and_no_bsn_in_the_log(broker):
    number = bsn("55566677")
    soap_request = (
        b'POST /vva/vo/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nSOAPAction: ""\r\n'
        b"Transfer-Encoding: chunked\r\n\r\n<a><bsn>" + number.encode() + b"</bsn></a>\r\n0\r\n\r\n"
    )
    response = broker.raw(soap_request)
    assert response.startswith(b"HTTP/1.1 400")
    assert number.encode() not in response and number.encode() not in broker.log.read_bytes()


def test_gunicorn_log_masks_a_bsn_in_a_broken_header(broker):
    number = bsn("66677788")
    broker.raw(b"POST /vva/vo/v1 HTTP/1.1\r\nHost: x\r\nkapotte header " + number.encode() + b"\r\n\r\n")
    assert number.encode() not in broker.log.read_bytes()


def test_post_without_length_or_chunked_is_411(broker):
    response = broker.raw(
        b'POST /vva/vo/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nSOAPAction: ""\r\n\r\n'
    )
    assert response.startswith(b"HTTP/1.1 411")


def test_wsdl_address_from_host_header_cannot_inject_anything(broker):
    response = broker.post(
        b"", method="GET", path="/vva/vo/v1?wsdl", headers={"Host": 'evil.example/x"/><a b="'}
    )
    assert response.status == 400 and b"<a b=" not in response.body


def test_H69_old_ws_addressing_header_beside_a_complete_set(broker):
    old = '<w04:ReplyTo xmlns:w04="http://schemas.xmlsoap.org/ws/2004/08/addressing"><w04:Address>http://169.254.169.254/</w04:Address></w04:ReplyTo>'
    assert fault(broker, build_envelope(extra_headers=old)) == (500, "soap:Client.DK0010")
    mandatory = (
        '<w04:Iets xmlns:w04="http://schemas.xmlsoap.org/ws/2004/08/addressing" soap:mustUnderstand="1"/>'
    )
    assert fault(broker, build_envelope(extra_headers=mandatory)) == (500, "soap:MustUnderstand")


def test_H104_unknown_wsa_header_with_mustunderstand_and_spaces(broker):
    extra = '<wsa:Iets soap:mustUnderstand="1">http://www.w3.org/2005/08/addressing/anonymous</wsa:Iets>'
    assert fault(broker, build_envelope(extra_headers=extra)) == (500, "soap:MustUnderstand")
    spaces = '<x:Eigen xmlns:x="urn:x" soap:mustUnderstand=" 1 "/>'
    assert fault(broker, build_envelope(extra_headers=spaces)) == (500, "soap:MustUnderstand")


def test_S0_security_with_mustunderstand_on_2w_be_is_dk0010(broker):
    extra = f'<wsse:Security xmlns:wsse="{WSSE}" soap:mustUnderstand="1"/>'
    assert fault(broker, build_envelope(extra_headers=extra)) == (500, "soap:Client.DK0010")


def test_H68_missing_to_goes_before_unknown_wsa_header(broker):
    extra = "<wsa:Iets>http://example/x</wsa:Iets>"
    assert fault(broker, build_envelope(to=None, extra_headers=extra)) == (500, "soap:Client.DK0005")


def test_EK0023_only_the_8_4_4_4_12_form(broker):
    for waarde in ("----0f0f0f0f11114222833300000000000a", "urn:uuid:0f0f0f0f1111422283330000-0000-000a--"):
        assert fault(broker, build_envelope(message_id=waarde)) == (500, "soap:Client.EK0023")


def test_A9_relates_to_only_as_message_id_and_reply_relationship(broker):
    foreign = f'<wsa:RelatesTo RelationshipType="urn:evil">urn:uuid:{uuid.uuid4()}</wsa:RelatesTo>'
    assert fault(broker, build_envelope(extra_headers=foreign)) == (500, "soap:Client.DK0011")
    long = f"<wsa:RelatesTo>urn:uuid:{'a' * 2000}</wsa:RelatesTo>"
    assert fault(broker, build_envelope(extra_headers=long)) == (500, "soap:Client.DK0011")
    good = f"<wsa:RelatesTo>urn:uuid:{uuid.uuid4()}</wsa:RelatesTo>"
    assert fault(broker, build_envelope(extra_headers=good)) == (200, None)


def test_A3_relative_address_in_from(broker):
    body = build_envelope().replace(b"http://www.w3.org/2005/08/addressing/anonymous?oin=", b"?oin=")
    assert fault(broker, body) == (500, "soap:Client.DK0011")


def test_F5_addressing_fault_carries_relates_to_and_to(broker):
    message_id = f"urn:uuid:{uuid.uuid4()}"
    response = broker.post(build_envelope(message_id=message_id), soapaction=f'"{VO}opvragenStatus"')
    assert response.faultcode == "soap:Client.DK0003"
    assert f">{message_id}</wsa:RelatesTo>".encode() in response.body
    assert f"anonymous?oin={SCHOOL_A}</wsa:To>".encode() in response.body


def test_H87_namespace_declarations_and_H88_large_attribute_value(broker):
    ns = " ".join(f'xmlns:p{i}="urn:p{i}"' for i in range(600))
    assert fault(broker, build_envelope(f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1" {ns}/>')) == (
        500,
        "soap:VersionMismatch.DK0001",
    )
    large = build_envelope().replace(b"<wsa:Action>", b'<wsa:Action a="' + b"x" * 70_000 + b'">')
    assert fault(broker, large) == (500, "soap:VersionMismatch.DK0001")


def test_H87_repeated_namespace_declarations_count(broker):
    # Two ancestors declare 300 prefixes each; the leaf declares all 600 again (other URIs) and 300 with
    # the same URI: the tree's nsmap shows the leaf no new prefix, the limit counts every declaration.
    ancestors = [" ".join(f'xmlns:p{j}_{i}="urn:{i}"' for i in range(300)) for j in range(2)]
    again = " ".join(f'xmlns:p{j}_{i}="urn:ander{i}"' for j in range(2) for i in range(300))
    body = (
        f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:a {ancestors[0]}><vva:b {ancestors[1]}>'
        f"<vva:c {again}/></vva:b></vva:a></vva:ping>"
    )
    assert fault(broker, build_envelope(body)) == (500, "soap:VersionMismatch.DK0001")
    attributes = " ".join(f'a{i}="x"' for i in range(250))
    same = (  # 300 declarations repeated with the same URIs, plus 250 attributes: 550 on one element
        f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:a {ancestors[0]}>'
        f"<vva:c {ancestors[0]} {attributes}/></vva:a></vva:ping>"
    )
    assert fault(broker, build_envelope(same)) == (500, "soap:VersionMismatch.DK0001")


def test_H89_too_many_elements_is_refused_before_the_tree_exists(broker):
    many = "<a/>" * 600_000
    assert fault(broker, build_envelope(f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1">{many}</vva:ping>')) == (
        500,
        "soap:VersionMismatch.DK0001",
    )


def test_H100_charset_twice(broker):
    assert fault(broker, build_envelope(), content_type="text/xml; charset=utf-8; charset=iso-8859-1") == (
        500,
        "soap:Client.DK0009",
    )


def test_H107_text_beside_the_body_content_and_encodingstyle_on_envelope(broker):
    assert fault(broker, build_envelope('tekst<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"/>')) == (
        500,
        "soap:VersionMismatch.DK0001",
    )
    style = build_envelope().replace(
        b"<soap:Envelope ", b'<soap:Envelope soap:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" '
    )
    assert fault(broker, style) == (500, "soap:Client.DK0004")


def test_long_header_name_gives_the_same_answer_on_every_database(broker):
    long = f'<x:{"n" * 300} xmlns:x="urn:x"/>'
    assert fault(broker, build_envelope(extra_headers=long)) == (500, "soap:Client.DK0010")


def test_duplicate_volgnummer_is_dk0004(broker):
    record = (
        "<vva:leerling><vva:volgnummer>1</vva:volgnummer><vva:bsn>{}</vva:bsn><vva:brinVo>99XA</vva:brinVo>"
        "<vva:postcode>1011AB</vva:postcode><vva:woongemeente>0363</vva:woongemeente><vva:mutatie>toevoegen</vva:mutatie></vva:leerling>"
    )
    body = f'<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1">{record.format(bsn("77788899"))}{record.format(bsn("77788890"))}</vva:aanleverenLeerlingen>'
    assert fault(broker, build_envelope(body, action=VO + "aanleverenLeerlingen")) == (500, "soap:Client.DK0004")


def test_DK0004_detail_without_bsn_also_with_a_quote(broker):
    number = bsn("88899900")
    body = f'<vva:opvragenWijzigingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:vanafCursor>x\'{number}</vva:vanafCursor></vva:opvragenWijzigingen>'
    response = broker.post(build_envelope(body, action=VO + "opvragenWijzigingen"))
    assert response.faultcode == "soap:Client.DK0004" and number.encode() not in response.body


def test_boolean_and_date_with_whitespace_mean_what_the_xsd_says(broker):
    one, two = bsn("99900011"), bsn("99900022")

    def delivery(numbers, replace):
        records = "".join(
            f"<vva:leerling><vva:volgnummer>{i}</vva:volgnummer><vva:bsn>{n}</vva:bsn><vva:brinVo>99XA</vva:brinVo>"
            "<vva:postcode>1011AB</vva:postcode><vva:woongemeente>0363</vva:woongemeente>"
            f"<vva:mutatie>{'wijzigen' if replace else 'toevoegen'}</vva:mutatie></vva:leerling>"
            for i, n in enumerate(numbers, start=1)
        )
        header = f"<vva:vervangStartpopulatie>\n  {replace}\n</vva:vervangStartpopulatie>" if replace else ""
        return build_envelope(
            f'<vva:aanleverenLeerlingen xmlns:vva="urn:nl:vva:aanmelden:v1">{header}{records}</vva:aanleverenLeerlingen>',
            action=VO + "aanleverenLeerlingen",
        )

    assert broker.post(delivery([one, two], "")).status == 200
    assert broker.post(delivery([one], "true")).status == 200
    afgemeld = broker.scalar(
        "SELECT count(*) FROM leerling WHERE status = 'afgemeld' AND afmeldreden = 'nietMeerAangeleverd'"
    )
    assert afgemeld >= 1
    datum = f'<vva:aanleverenAanmeldingen xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:aanmelding><vva:volgnummer>1</vva:volgnummer><vva:bsn>{one}</vva:bsn><vva:brinMbo>99XB</vva:brinMbo><vva:status>aangemeld</vva:status><vva:datum> 2026-11-01 </vva:datum></vva:aanmelding></vva:aanleverenAanmeldingen>'
    response = broker.post(
        build_envelope(
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
def test_h79_h81_h82_h83_every_dtd_form(broker, doctype):
    body = doctype.encode() + build_envelope(
        '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo>x</vva:echo></vva:ping>'
    )
    assert fault(broker, body) == (500, "soap:VersionMismatch.DK0001")


def test_h88_extremely_long_names(broker):
    naam = "n" * 100_000
    assert fault(broker, build_envelope(f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><{naam}/></vva:ping>')) == (
        500,
        "soap:VersionMismatch.DK0001",
    )
    prefix = "p" * 100_000
    body = f'<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><{prefix}:x xmlns:{prefix}="urn:x"/></vva:ping>'
    assert fault(broker, build_envelope(body)) == (500, "soap:VersionMismatch.DK0001")


def test_h90_soap_encoded_array(broker):
    body = (
        '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1" xmlns:enc="http://schemas.xmlsoap.org/soap/encoding/">'
        '<vva:echo enc:arrayType="xsd:string[2147483647]"/></vva:ping>'
    )
    assert fault(broker, build_envelope(body)) == (500, "soap:Client.DK0004")


def test_h109_h111_mtom_and_multipart_are_not_accepted(broker):
    mime = (
        b'--grens\r\nContent-Type: application/xop+xml; type="text/xml"\r\n\r\n'
        + build_envelope()
        + b"\r\n--grens--\r\n"
    )
    soort = 'multipart/related; type="application/xop+xml"; boundary=grens; start-info="text/xml"'
    assert broker.post(mime, content_type=soort).status == 415
    duplicate = b"--g\r\nContent-ID: <a>\r\n\r\nx\r\n--g\r\nContent-ID: <a>\r\n\r\ny\r\n--g--\r\n"
    assert broker.post(duplicate, content_type="multipart/related; boundary=g").status == 415


def test_h110_xop_include_is_never_followed(broker):
    body = (
        '<vva:ping xmlns:vva="urn:nl:vva:aanmelden:v1"><vva:echo><xop:Include '
        'xmlns:xop="http://www.w3.org/2004/08/xop/include" href="file:///etc/passwd"/></vva:echo></vva:ping>'
    )
    response = broker.post(build_envelope(body))
    assert (response.status, response.faultcode) == (
        500,
        "soap:Client.DK0004",
    ) and b"root:" not in response.body
