"""The signer: exact output shape (S2, S4, S5, S8, S9) and an independent check with signxml."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import xmlsec
from lxml import etree
from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier

from broker.edukoppeling.ns import WSU
from broker.edukoppeling.response import build_response
from broker.edukoppeling.wss.constants import BASE64_BINARY, EXC_C14N, RSA_SHA256, SHA256, WSSE11, X509V3
from broker.edukoppeling.wss.signer import Signer
from tests.wss.conftest import (
    FIXED_IDS,
    NOW,
    NS,
    REQUEST_71,
    bst_id,
    build_request,
    check_all,
    one,
    timestamp_id,
    tree,
)

WSU_ID = f"{{{WSU}}}Id"
BROKER = "00000099000000000001"
OIN_SCHOOL = "0000000700099XA00000"


def _reference_ids(root) -> list[str]:
    return [uri[1:] for uri in root.xpath("//ds:SignedInfo/ds:Reference/@URI", namespaces=NS)]


def test_reference_set_is_body_timestamp_each_wsa_header_and_bst(signer):
    root = tree(build_request(signer))
    ts, bst = timestamp_id(root), bst_id(root)
    # Order: Body, Timestamp, the wsa headers in document order, BST (S2, O2).
    assert _reference_ids(root) == ["h-body", ts, "h-action", "h-msg", "h-to", "h-from", bst]
    for reference in root.xpath("//ds:Reference", namespaces=NS):
        transforms = reference.xpath("ds:Transforms/ds:Transform/@Algorithm", namespaces=NS)
        assert transforms == [EXC_C14N]
        assert reference.xpath("ds:Transforms/ds:Transform/*", namespaces=NS) == []  # no PrefixList
        assert reference.xpath("ds:DigestMethod/@Algorithm", namespaces=NS) == [SHA256]
    assert one(root, "//ds:CanonicalizationMethod").get("Algorithm") == EXC_C14N
    assert one(root, "//ds:SignatureMethod").get("Algorithm") == RSA_SHA256


def test_security_header_layout(signer):
    root = tree(build_request(signer))
    header = one(root, "/soap:Envelope/soap:Header")
    # Last, after every signed wsa block, as DUO's answers have it (gSOAP refuses a signed block after it).
    assert [etree.QName(block).localname for block in header] == [
        "Action",
        "MessageID",
        "To",
        "From",
        "Security",
    ]
    security = header[-1]
    assert security.tag == f"{{{NS['wsse']}}}Security"
    assert not any(naam.endswith("mustUnderstand") for naam in security.attrib)
    names = [etree.QName(kind).localname for kind in security]
    assert names == ["Timestamp", "BinarySecurityToken", "Signature"]  # BST before Signature
    bst = security[1]
    assert bst.get("ValueType") == X509V3 and bst.get("EncodingType") == BASE64_BINARY
    assert bst.get(WSU_ID)
    # KeyInfo: one STR, one direct Reference to the BST (WB010); never zeep's X509Data.
    str_ = one(root, "//ds:KeyInfo/wsse:SecurityTokenReference")
    assert len(str_) == 1
    assert str_[0].tag == f"{{{NS['wsse']}}}Reference"
    assert str_[0].get("URI") == f"#{bst.get(WSU_ID)}" and str_[0].get("ValueType") == X509V3
    assert root.xpath("//ds:X509Data|//ds:KeyValue", namespaces=NS) == []


def test_timestamp_is_now_with_milliseconds_and_expires_after_300_s(signer):
    now = datetime(2027, 2, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    root = tree(build_request(signer, now))
    assert one(root, "//wsu:Timestamp/wsu:Created").text == "2027-02-01T08:30:15.123Z"
    assert one(root, "//wsu:Timestamp/wsu:Expires").text == "2027-02-01T08:35:15.123Z"
    assert len(one(root, "//wsu:Timestamp")) == 2


def test_no_sha1_anywhere_and_bst_before_signature(signer):
    data = build_request(signer)
    # Every algorithm URI, and no SHA-1 URI anywhere in the bytes (base64 values may spell "sha1").
    algorithms = set(tree(data).xpath("//@Algorithm"))
    assert algorithms == {EXC_C14N, RSA_SHA256, SHA256}
    assert not any(uri in data for uri in (b"xmldsig#sha1", b"#rsa-sha1", b"#hmac-sha1", b"#dsa-sha1"))
    assert data.index(b"<wsse:BinarySecurityToken ") < data.index(b"<ds:Signature ")
    assert data.count(b"<ds:Signature ") == 1


def test_signed_envelope_verifies_with_signxml(signer, keys):
    data = build_request(signer)
    root = tree(data)
    expected = _reference_ids(root)
    results = XMLVerifier().verify(
        data,
        x509_cert=keys.sign.certificate_pem.decode(),
        expect_config=SignatureConfiguration(
            expect_references=len(expected),
            signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
            digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
        ),
    )
    assert [result.signed_xml.get(WSU_ID) for result in results] == expected
    names = [etree.QName(result.signed_xml).localname for result in results]
    assert names == ["Body", "Timestamp", "Action", "MessageID", "To", "From", "BinarySecurityToken"]


def test_signed_envelope_verifies_with_our_verifier(signer, keys):
    data = build_request(signer)
    root = tree(data)
    result = check_all(data)
    assert result.signed == FIXED_IDS | {timestamp_id(root), bst_id(root)}
    assert result.created == NOW
    assert result.certificate == keys.sign.certificaat
    assert result.signature_value == one(root, "//ds:SignatureValue").text
    assert "\n" not in result.signature_value  # one line (S8 copies it)


@pytest.mark.parametrize("sign_bst", [True, False])
def test_signature_is_byte_identical_to_xmlsec_signing_the_same_template(keys, sign_bst):
    """The signer digests and signs with lxml c14n, hashlib and cryptography (issue 18); python-xmlsec
    filling in the same template must give the very same bytes (PKCS#1 v1.5 is deterministic), also
    for a Body with a comment, CDATA, an unused namespace and attribute quoting to normalise."""
    answer = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header><wsa:Action>urn:a</wsa:Action>'
        "<wsa:MessageID>urn:uuid:1</wsa:MessageID><wsa:RelatesTo>urn:uuid:0</wsa:RelatesTo></soap:Header>"
        '<soap:Body><v:x xmlns:v="urn:nl:vva:aanmelden:v1" xmlns:q="urn:unused"><v:y b=\'2\'  a="1">'
        "t&amp;<![CDATA[<c>]]></v:y><!-- c --></v:x></soap:Body></soap:Envelope>"
    )
    root = etree.fromstring(answer)
    Signer(keys.sign.key_pem, keys.sign.certificate_pem, sign_bst=sign_bst).sign(root, NOW, confirm="QUJD")
    ours = etree.tostring(root)
    # The template as the signer built it, emptied, and filled in by xmlsec instead.
    for value in root.xpath("//ds:DigestValue | //ds:SignatureValue", namespaces=NS):
        value.text = None
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(keys.sign.key_pem, xmlsec.constants.KeyDataFormatPem)
    for element in root.xpath("//*[@wsu:Id]", namespaces=NS):
        context.register_id(element, "Id", WSU)
    signature = one(root, "//ds:Signature")
    context.sign(signature)
    value = one(root, "//ds:SignatureValue")
    value.text = "".join(value.text.split())
    assert len(root.xpath("//ds:Reference", namespaces=NS)) == (7 if sign_bst else 6)  # Body, Timestamp, 3 wsa, confirmation, BST
    assert etree.tostring(root) == ours


def test_bst_reference_can_be_switched_off(keys):
    without = Signer(keys.sign.key_pem, keys.sign.certificate_pem, sign_bst=False)
    data = build_request(without)
    root = tree(data)
    assert bst_id(root) not in _reference_ids(root)
    assert check_all(data).signed == FIXED_IDS | {timestamp_id(root)}


def test_response_with_signature_confirmation(signer, keys):
    """A broker response (response.py) with SignatureConfirmation (S8, R7) verifies, RelatesTo signed."""
    inhoud = etree.Element("{urn:nl:vva:aanmelden:v1}meldenPotentieleMboGangerResponse")
    response, _ = build_response(inhoud, "urn:nl:vva:aanmelden:v1/melden", "urn:uuid:1", BROKER, OIN_SCHOOL)
    # response.py hands over the Envelope element (older versions: its bytes).
    root = response if isinstance(response, etree._Element) else etree.fromstring(response)
    signer.sign(root, NOW, confirm="QUJD\nREVG")
    confirmation = root.xpath("//wsse:Security/c:SignatureConfirmation", namespaces={**NS, "c": WSSE11})[0]
    assert confirmation.get("Value") == "QUJDREVG"
    ids = _reference_ids(root)
    assert ids[:2] == ["body", timestamp_id(root)]
    assert ids[2:7] == [
        "wsa-Action",
        "wsa-MessageID",
        "wsa-RelatesTo",
        "wsa-From",
        "wsa-To",
    ]  # existing ids kept
    assert ids[7:] == [confirmation.get(WSU_ID), bst_id(root)]
    names = [etree.QName(kind).localname for kind in one(root, "//wsse:Security")]
    assert names == ["Timestamp", "BinarySecurityToken", "SignatureConfirmation", "Signature"]
    assert check_all(etree.tostring(root)).signed == set(ids)


def test_header_is_created_when_absent(signer):
    root = etree.fromstring(
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x xmlns="urn:x"/></s:Body></s:Envelope>'
    )
    signer.sign(root, NOW)
    assert [etree.QName(kind).localname for kind in root] == ["Header", "Body"]
    assert etree.QName(root[0][0]).localname == "Security"
    body_id = root[1].get(WSU_ID)
    assert body_id.startswith("id-") and len(body_id) == 35
    assert _reference_ids(root)[0] == body_id


def test_refuses_a_second_security_header(signer):
    root = tree(build_request(signer))
    with pytest.raises(ValueError, match="already has a wsse:Security"):
        signer.sign(root, NOW)


def test_refuses_duplicate_ids_among_signed_parts(signer):
    root = etree.fromstring(REQUEST_71.encode())
    one(root, "//wsa:To").set(WSU_ID, "h-msg")
    with pytest.raises(ValueError, match="unique ids"):
        signer.sign(root, NOW)


def test_refuses_naive_clock(signer):
    with pytest.raises(ValueError, match="timezone-aware"):
        build_request(signer, datetime(2027, 2, 1, 8, 0))


@pytest.mark.parametrize("variant", ["rsa1024", "ec", "dsa"])
def test_refuses_weak_or_non_rsa_keys(keys, variant):
    pair = getattr(keys, variant)
    with pytest.raises(ValueError, match="RSA with at least 2048"):
        Signer(pair.key_pem, pair.certificate_pem)


def test_refuses_key_of_another_certificate(keys):
    with pytest.raises(ValueError, match="does not belong"):
        Signer(keys.sign.key_pem, keys.other.certificate_pem)


def test_h76_unsigned_fault_of_a_partner_is_never_seen_as_signed():
    """Broker as client: an unsigned Fault (or a missing Security header) is an unauthenticated
    transport error, never a signed answer (WUS WB013; zeep #1197, #562)."""
    from lxml import etree

    from broker.outbound.signing import EdukoppelingWsse, UntrustedResponse

    error = etree.fromstring(
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
        b"<faultcode>s:Server</faultcode><faultstring>kapot</faultstring></s:Fault></s:Body></s:Envelope>"
    )
    wsse = EdukoppelingWsse(signer=None)
    with pytest.raises(UntrustedResponse, match="not verified"):
        wsse.verify(error)


def _partner_answer(signer, relates_to: str, confirm: str | None, van: str = "00000099000000000042"):
    from datetime import UTC

    from broker.edukoppeling.response import build_response, to_bytes

    envelope, _ = build_response(
        etree.Element("{urn:x}pingResponse"), "urn:x/ping", relates_to, van, "00000099000000000001"
    )
    signer.sign(envelope, datetime.now(UTC), confirm=confirm)
    return etree.fromstring(to_bytes(envelope))


def _sent(wsse):
    """A request through the client's wsse.apply; returns (MessageID, SignatureValue) it sent."""
    from broker.domain.identifiers import new_message_id

    message_id = new_message_id()
    soap_request = etree.fromstring(
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        f"<s:Header><wsa:Action>urn:x/ping</wsa:Action><wsa:MessageID>{message_id}</wsa:MessageID>"
        "<wsa:To>https://partner.example/?oin=00000099000000000042</wsa:To><wsa:From><wsa:Address>"
        "http://www.w3.org/2005/08/addressing/anonymous?oin=00000099000000000001</wsa:Address></wsa:From>"
        "</s:Header><s:Body><x:ping xmlns:x='urn:x'/></s:Body></s:Envelope>"
    )
    wsse.apply(soap_request, {})
    waarde = "".join(soap_request.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue").text.split())
    return message_id, waarde


def test_client_side_checks_relates_to_sender_and_confirmation(signer):
    """The broker as client (docs/rules.md) and S8: an answer to another request, from another party, or with a
    wrong or unsigned SignatureConfirmation is never processed."""
    from broker.outbound.signing import EdukoppelingWsse, UntrustedResponse

    wsse = EdukoppelingWsse(signer, expected_oin=None)
    message_id, signature_element = _sent(wsse)
    assert wsse.verify(_partner_answer(signer, message_id, signature_element)) is not None
    assert wsse.verify(_partner_answer(signer, message_id, None)) is not None  # absent: tolerated
    with pytest.raises(UntrustedResponse, match="RelatesTo"):
        wsse.verify(_partner_answer(signer, "urn:uuid:00000000-0000-4000-8000-000000000000", None))
    with pytest.raises(UntrustedResponse, match="does not match"):
        wsse.verify(_partner_answer(signer, message_id, "QUJD"))
    strict = EdukoppelingWsse(signer, expected_oin="0000000700099XB00000")
    message_id, signature_element = _sent(strict)
    with pytest.raises(UntrustedResponse, match="party called"):
        strict.verify(_partner_answer(signer, message_id, signature_element))


def _header_names(root: etree._Element) -> list[str]:
    return [etree.QName(block).localname for block in one(root, "/soap:Envelope/soap:Header")]


def test_security_is_the_last_header_block_of_answers_faults_and_client_requests(signer):
    """Issue 14 item 10: gSOAP's wsse plugin counts signed elements wrongly when a signed header block
    follows wsse:Security ("Message body not signed"); DUO's answers put Security last, so do we, in
    every message the one signer makes: answers, faults, pushes and other client requests."""
    from datetime import UTC

    from broker.edukoppeling.faults import EdukoppelingFault
    from broker.edukoppeling.response import build_fault, to_bytes
    from broker.outbound.signing import EdukoppelingWsse

    now = datetime.now(UTC)
    response, _ = build_response(
        etree.Element("{urn:x}pingResponse"), "urn:x/ping", "urn:uuid:1", BROKER, OIN_SCHOOL
    )
    signer.sign(response, now, confirm="QUJD")
    error, _ = build_fault(EdukoppelingFault("Client.DK0004", "test"), "urn:uuid:1", BROKER, OIN_SCHOOL)
    signer.sign(error, now)
    # A request as zeep hands it to the client's wsse.apply (pushes, vva client): wsa headers only.
    soap_request = tree(REQUEST_71.encode())
    EdukoppelingWsse(signer, expected_oin=None).apply(soap_request, {})
    assert _header_names(response) == ["Action", "MessageID", "RelatesTo", "From", "To", "Security"]
    assert _header_names(error) == ["Action", "MessageID", "RelatesTo", "From", "To", "Security"]
    assert _header_names(soap_request) == ["Action", "MessageID", "To", "From", "Security"]
    for root in (response, error, soap_request):
        check_all(to_bytes(root), now)  # and our own verifier still accepts them


@pytest.mark.parametrize("ident", [" h-body ", "h-body\t"], ids=["spaces", "tab"])
def test_an_existing_id_with_surrounding_whitespace_is_refused_or_signed_verifiably(signer, ident):
    """The signer keeps an element's existing wsu:Id, and ``_check_unique`` compares ids stripped.
    With python-xmlsec (before issue 18) the Reference URI ``# h-body `` resolved to nothing and
    ``sign`` raised; the hashlib signer now emits that URI without complaint, and the message it
    returns is refused by our own verifier (``#NCName`` only) and by xmlsec1. Either refuse to sign,
    or sign something that verifies."""
    text = REQUEST_71.replace('wsu:Id="h-body"', f'wsu:Id="{ident}"')
    root = etree.fromstring(text.encode())
    try:
        signer.sign(root, NOW)
    except (ValueError, xmlsec.Error):
        return
    check_all(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
