"""The inbound WS-Security verifier against H1–H76 and H113–H122 (S1–S7).

Every test signs the §7.1 request of ``tests/wss/conftest.py`` with our Signer, changes it in one hostile
way (re-signing with ``resign`` where the attack needs a valid signature), and runs the inbound
pipeline parse_bericht → read_envelope → verify_envelope. Test names carry the H-number.

Not decided in this module, so not tested here:
* H13 as a wire code (DK0011 duplicate wsa header: the addressing step runs first; the verifier's
  coverage backstop is tested), H22 (SOAP-encoding href: read_envelope, DK0004), H23's DOCTYPE form
  (parse_bericht; tested once below to pin that it never reaches the verifier).
* H39–H41: 2W-be-SE (encryption) is out of scope; the broker's services use 2W-be-S.
* H45–H48: certificate trust (chain, validity, CRL, OIN) is broker.edukoppeling.trust_store's job;
  H44 is tested only to show the verifier hands the self-signed certificate on, undecided.
* H64, H66, H67: replay and MessageID reuse live in the persistence layer (H65's digest failure is
  decided here and tested; its SignatureValue cache is not).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from datetime import timedelta

import pytest
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier

from broker.edukoppeling.faults import EdukoppelingFault, FaultCode, WsSecurityFault
from broker.edukoppeling.ns import SOAP11, WSA, WSSE, WSU
from broker.edukoppeling.parsing import parse_message
from broker.edukoppeling.wss import verification
from broker.edukoppeling.wss.constants import DS, EC, EXC_C14N
from broker.edukoppeling.wss.signer import Signer
from broker.edukoppeling.wss.verification import DETAIL_DIRECT_REFERENCE
from tests.wss.conftest import (
    FIXED_IDS,
    NOW,
    bst_id,
    build_request,
    bytes_of,
    check_all,
    one,
    reference,
    resign,
    timestamp_id,
    tree,
)

WSU_ID = f"{{{WSU}}}Id"
SOAP_ACTOR = f"{{{SOAP11}}}actor"
PAYLOAD = ("999990019", "99XA", "Fictief")  # values that must never reach a fault or the log


@pytest.fixture
def soap_request(signer) -> bytes:
    return build_request(signer)


@pytest.fixture
def root(soap_request) -> etree._Element:
    return tree(soap_request)


@pytest.fixture
def sleutel(keys) -> bytes:
    return keys.sign.key_pem


def refuse(data: bytes, klass: WsSecurityFault, contains: str = "", now=NOW, **settings) -> EdukoppelingFault:
    """Assert EK0031 with the WS-Security class ``klass``, and no payload in the audit reason."""
    with pytest.raises(EdukoppelingFault) as info:
        check_all(data, now, **settings)
    error = info.value
    assert error.code is FaultCode.CLIENT_EK0031, error
    assert error.wss is klass, error.reason
    assert contains in error.reason, error.reason
    assert not any(waarde in error.reason for waarde in PAYLOAD)
    return error


def all_ids(root) -> set[str]:
    return FIXED_IDS | {timestamp_id(root), bst_id(root)}


def security(root) -> etree._Element:
    return one(root, "/soap:Envelope/soap:Header/wsse:Security")


def remove_reference(root, ident: str) -> None:
    ref = reference(root, ident)
    ref.getparent().remove(ref)


# --- the baseline ----------------------------------------------------------------------------------


def test_signed_request_is_accepted_with_real_values(soap_request, root, keys):
    result = check_all(soap_request)
    assert result.signed == all_ids(root)
    assert result.created == NOW
    oin = result.certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value
    assert oin == "00000099000000000042"
    assert result.signature_value == one(root, "//ds:SignatureValue").text


def test_s0_unsigned_request_on_a_signed_service(root):
    security(root).getparent().remove(security(root))
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "no wsse:Security header")


def test_first_failing_step_decides(root):
    """A SHA-1 digest (step 2) and a duplicate id (step 4): always the step-2 class."""
    reference(root, "h-to").find(f"{{{DS}}}DigestMethod").set(
        "Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1"
    )
    etree.SubElement(security(root), "{urn:x}Kopie", {WSU_ID: "h-body"})
    refuse(bytes_of(root), WsSecurityFault.UNSUPPORTED_ALGORITHM, "DigestMethod")


# --- A. signature wrapping and reference resolution ------------------------------------------------


def test_h1_signed_body_moved_into_header_wrapper(root, keys):
    body = one(root, "/soap:Envelope/soap:Body")
    wrapper = etree.SubElement(security(root), "{urn:evil}Wrapper")
    wrapper.append(body)
    new = etree.SubElement(root, f"{{{SOAP11}}}Body")
    etree.SubElement(new, "{urn:nl:vva:aanmelden:v1}meldenPotentieleMboGanger").text = "aanvaller"
    data = bytes_of(root)
    # The crypto alone still verifies (signxml resolves the moved Body) ...
    XMLVerifier().verify(
        data,
        x509_cert=keys.sign.certificate_pem.decode(),
        expect_config=SignatureConfiguration(expect_references=7),
    )
    # ... so only the position check catches it.
    refuse(data, WsSecurityFault.INVALID_SECURITY, "signed soap:Body #h-body is not /Envelope/Body")


def test_h2_signed_body_moved_into_security_with_new_body_id(root):
    body = one(root, "/soap:Envelope/soap:Body")
    security(root).append(body)
    new = etree.SubElement(root, f"{{{SOAP11}}}Body", {WSU_ID: "h-nieuw"})
    etree.SubElement(new, "{urn:nl:vva:aanmelden:v1}meldenPotentieleMboGanger")
    refuse(
        bytes_of(root), WsSecurityFault.INVALID_SECURITY, "signed soap:Body #h-body is not /Envelope/Body"
    )


def test_h3_duplicate_wsu_id(root):
    """A signed copy of wsa:To in the Security header; the real wsa:To is tampered."""
    to = one(root, "//soap:Header/wsa:To")
    security(root).append(copy.deepcopy(to))
    to.text = "https://aanvaller.example/?oin=00000099000000000001"
    refuse(bytes_of(root), WsSecurityFault.FAILED_CHECK, "duplicate id #h-to (2 ID attributes)")


def test_h4_duplicate_id_first_match_is_the_signed_copy(root):
    """The signed copy comes first in document order; the Body the app would read is tampered."""
    body = one(root, "/soap:Envelope/soap:Body")
    security(root).append(copy.deepcopy(body))
    body[0][0].text = "99ZZ"
    refuse(bytes_of(root), WsSecurityFault.FAILED_CHECK, "duplicate id #h-body")


@pytest.mark.parametrize(
    "attribute",
    ["Id", "ID", "id", "{http://www.w3.org/XML/1998/namespace}id", "{urn:ander}Id", f"{{{WSSE}}}Id"],
)
def test_h5_same_id_on_another_id_like_attribute(root, attribute):
    etree.SubElement(security(root), "{urn:x}Lokaas", {attribute: "h-body"})
    refuse(bytes_of(root), WsSecurityFault.FAILED_CHECK, "duplicate id #h-body (2 ID attributes)")


def test_h5_near_equal_id_with_whitespace_counts_as_the_same(root):
    etree.SubElement(security(root), "{urn:x}Lokaas", {"Id": " h-body "})
    refuse(bytes_of(root), WsSecurityFault.FAILED_CHECK, "duplicate id #h-body")


@pytest.mark.parametrize(
    "namespace",
    [
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd#",
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.1.xsd",
        "",
    ],
    ids=["typo", "lookalike-version", "unqualified"],
)
def test_h6_signed_element_id_in_lookalike_namespace(root, namespace):
    body = one(root, "/soap:Envelope/soap:Body")
    del body.attrib[WSU_ID]
    body.set(f"{{{namespace}}}Id" if namespace else "Id", "h-body")
    refuse(bytes_of(root), WsSecurityFault.FAILED_CHECK, "reference #h-body does not resolve to a wsu:Id")


@pytest.mark.parametrize("uri", ["", "#xpointer(/)", None], ids=["empty", "xpointer-root", "absent"])
def test_h7_empty_or_whole_document_reference(root, uri):
    ref = reference(root, "h-body")
    if uri is None:
        del ref.attrib["URI"]
    else:
        ref.set("URI", uri)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "Reference URI is not a same-document #NCName")


def test_h8_xpointer_id_reference(root):
    reference(root, "h-body").set("URI", "#xpointer(id('h-body'))")
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "Reference URI is not a same-document #NCName")


@pytest.mark.parametrize(
    "uri", ["http://aanvaller.example/body.xml", "file:///etc/passwd", "cid:body@aanvaller", "h-body"]
)
def test_h9_reference_outside_the_envelope(root, uri):
    reference(root, "h-body").set("URI", uri)
    error = refuse(
        bytes_of(root), WsSecurityFault.INVALID_SECURITY, "Reference URI is not a same-document #NCName"
    )
    assert "aanvaller" not in error.reason and "passwd" not in error.reason


def test_h10_signature_stripped(root):
    signature_element = one(root, "//ds:Signature")
    signature_element.getparent().remove(signature_element)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "no ds:Signature")


@pytest.mark.parametrize("place", ["security", "wsa-from"])
def test_h11_two_signature_elements(root, place):
    second = copy.deepcopy(one(root, "//ds:Signature"))
    target = security(root) if place == "security" else one(root, "//soap:Header/wsa:From")
    target.insert(0, second)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "2 ds:Signature elements in the message")


def test_h11_the_only_signature_outside_the_security_header(root):
    signature_element = one(root, "//ds:Signature")
    one(root, "//soap:Header/wsa:From").append(signature_element)
    refuse(
        bytes_of(root),
        WsSecurityFault.INVALID_SECURITY,
        "ds:Signature is not a child of the wsse:Security header",
    )


@pytest.mark.parametrize("header", ["To", "Action", "MessageID", "From"])
def test_h12_wsa_header_not_signed(root, sleutel, header):
    ident = one(root, f"//soap:Header/wsa:{header}").get(WSU_ID)
    remove_reference(root, ident)
    resign(root, sleutel)  # a valid signature over everything else
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, f"coverage: wsa:{header} is not signed")


def test_h13_second_unsigned_wsa_to_is_not_covered(root):
    """DK0011 (duplicate) is the addressing step's answer; the verifier still refuses it (backstop)."""
    header = one(root, "/soap:Envelope/soap:Header")
    etree.SubElement(header, f"{{{WSA}}}To").text = "https://aanvaller.example/?oin=00000099000000000001"
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "coverage: wsa:To is not signed")


def test_h14_second_security_header_without_actor(root):
    header = one(root, "/soap:Envelope/soap:Header")
    second = etree.SubElement(header, f"{{{WSSE}}}Security")
    second.append(copy.deepcopy(one(root, "//wsu:Timestamp")))
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "more than one wsse:Security header")


def test_h14_two_security_headers_with_the_same_actor(root):
    header = one(root, "/soap:Envelope/soap:Header")
    security(root).set(SOAP_ACTOR, "urn:zelfde")
    etree.SubElement(header, f"{{{WSSE}}}Security", {SOAP_ACTOR: "urn:zelfde"})
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "wsse:Security header with a soap:actor")
    # Without actors, two Security headers are refused as well.
    for block in root.iter(f"{{{WSSE}}}Security"):
        block.attrib.pop(SOAP_ACTOR, None)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "more than one wsse:Security header")


def test_h15_only_signature_in_a_header_for_another_actor(root):
    security(root).set(SOAP_ACTOR, "http://schemas.xmlsoap.org/soap/actor/next")
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "wsse:Security header with a soap:actor")


def test_h16_lookalike_prefix_decoy_timestamp_is_refused(root):
    """A decoy 'wsu:Timestamp' whose wsu prefix is bound elsewhere: only (namespace, name) counts, and
    anything beside the real Timestamp, Signature and BST in the Security header is refused (S1)."""
    decoy = etree.Element("{urn:lijkt-op-wsu}Timestamp", nsmap={"wsu": "urn:lijkt-op-wsu"})
    etree.SubElement(decoy, "{urn:lijkt-op-wsu}Created").text = "2027-02-01T08:06:00.000Z"
    security(root).insert(0, decoy)
    data = bytes_of(root)
    assert b'<wsu:Timestamp xmlns:wsu="urn:lijkt-op-wsu">' in data
    refuse(data, WsSecurityFault.INVALID_SECURITY, "unexpected Timestamp in wsse:Security")


def test_h16_signed_wsa_header_moved_under_a_prefix_rebinding_wrapper(root):
    to = one(root, "//soap:Header/wsa:To")
    wrapper = etree.SubElement(security(root), "{urn:evil}W", nsmap={"wsa": "urn:evil"})
    wrapper.append(to)
    header = one(root, "/soap:Envelope/soap:Header")
    etree.SubElement(header, f"{{{WSA}}}To").text = "https://aanvaller.example/?oin=00000099000000000001"
    refuse(
        bytes_of(root),
        WsSecurityFault.INVALID_SECURITY,
        "signed wsa element #h-to is not in a wsa header block",
    )


def test_h17_enveloped_signature_transform(root):
    transforms = reference(root, "h-body").find(f"{{{DS}}}Transforms")
    transforms.insert(
        0,
        etree.Element(
            f"{{{DS}}}Transform", Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"
        ),
    )
    refuse(bytes_of(root), WsSecurityFault.UNSUPPORTED_ALGORITHM, "Transform is not exclusive c14n")


def test_h18_enveloping_signature_with_object(root):
    signature_element = one(root, "//ds:Signature")
    ds_object = etree.SubElement(signature_element, f"{{{DS}}}Object", Id="obj")
    ds_object.append(copy.deepcopy(one(root, "/soap:Envelope/soap:Body")[0]))
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "ds:Object in ds:Signature")


def test_h19_manifest_covering_the_body(root):
    signature_element = one(root, "//ds:Signature")
    manifest = etree.SubElement(etree.SubElement(signature_element, f"{{{DS}}}Object"), f"{{{DS}}}Manifest")
    manifest.append(copy.deepcopy(reference(root, "h-body")))
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "ds:Manifest in ds:Signature")


def test_h20_str_points_to_a_bst_in_another_security_header(root):
    header = one(root, "/soap:Envelope/soap:Header")
    other = etree.SubElement(header, f"{{{WSSE}}}Security", {SOAP_ACTOR: "urn:iemand-anders"})
    other.append(one(root, "//wsse:BinarySecurityToken"))
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "wsse:Security header with a soap:actor")
    other.attrib.pop(SOAP_ACTOR)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "more than one wsse:Security header")


def test_h21_references_cover_only_the_bst(root, sleutel):
    for ident in FIXED_IDS | {timestamp_id(root)}:
        remove_reference(root, ident)
    resign(root, sleutel)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "coverage: soap:Body is not signed")


def test_h21_reference_into_the_signature(root, sleutel):
    key_info = one(root, "//ds:KeyInfo")
    key_info.set(WSU_ID, "h-keyinfo")
    signed_info = one(root, "//ds:SignedInfo")
    new = copy.deepcopy(reference(root, "h-body"))
    new.set("URI", "#h-keyinfo")
    signed_info.append(new)
    resign(root, sleutel)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "reference #h-keyinfo points into ds:Signature")


def test_h23_xml_id_made_resolvable(root):
    etree.SubElement(security(root), "{urn:x}Lokaas", {"{http://www.w3.org/XML/1998/namespace}id": "h-body"})
    refuse(bytes_of(root), WsSecurityFault.FAILED_CHECK, "duplicate id #h-body")


def test_h23_dtd_attlist_never_reaches_the_verifier(soap_request):
    data = soap_request.replace(
        b"<soap:Envelope", b"<!DOCTYPE soap:Envelope [<!ATTLIST x Id ID #IMPLIED>]>\n<soap:Envelope", 1
    )
    with pytest.raises(EdukoppelingFault) as info:
        parse_message(data)
    assert info.value.code == "VersionMismatch.DK0001" and info.value.reason.startswith("xml:Forbidden")


# --- B. transforms, canonicalisation, algorithms ---------------------------------------------------


def _refuse_transform(root, algorithm: str) -> None:
    transform = reference(root, "h-body").find(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    transform.set("Algorithm", algorithm)
    etree.SubElement(transform, f"{{{DS}}}XPath").text = "not(ancestor-or-self::*)"
    refuse(bytes_of(root), WsSecurityFault.UNSUPPORTED_ALGORITHM, "Transform is not exclusive c14n")


def test_h24_xslt_transform(root):
    _refuse_transform(root, "http://www.w3.org/TR/1999/REC-xslt-19991116")


def test_h25_xpath_filter_transform(root):
    _refuse_transform(root, "http://www.w3.org/TR/1999/REC-xpath-19991116")


def test_h26_xpath_filter2_transform(root):
    _refuse_transform(root, "http://www.w3.org/2002/06/xmldsig-filter2")


def _set_transforms(root, ident: str, count: int) -> None:
    transforms = reference(root, ident).find(f"{{{DS}}}Transforms")
    for _ in range(count - 1):
        etree.SubElement(transforms, f"{{{DS}}}Transform", Algorithm=EXC_C14N)


def test_h27_six_transforms(root):
    _set_transforms(root, "h-body", 6)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "6 transforms (max 5)")


def test_h27_five_exc_c14n_transforms_are_within_the_limit(root, sleutel):
    _set_transforms(root, "h-body", 5)
    resign(root, sleutel)  # exc-c14n is idempotent: one pass gives the digest of five
    assert check_all(bytes_of(root)).signed == all_ids(root)


def test_h28_thirty_one_references_refused_before_any_digest(root, monkeypatch):
    signed_info = one(root, "//ds:SignedInfo")
    body_reference = reference(root, "h-body")
    while len(signed_info.findall(f"{{{DS}}}Reference")) < 31:
        signed_info.append(copy.deepcopy(body_reference))

    def never(*_args, **_kwargs):
        raise AssertionError("a digest was computed")

    monkeypatch.setattr(verification, "digest", never)
    monkeypatch.setattr(verification, "_verify_cryptographically", never)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "31 references (max 30)")


def test_h28_same_element_referenced_twice(root, sleutel):
    one(root, "//ds:SignedInfo").append(copy.deepcopy(reference(root, "h-body")))
    resign(root, sleutel)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "element #h-body referenced twice")


@pytest.mark.parametrize(
    "algorithm",
    ["http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", "http://www.w3.org/2000/09/xmldsig#hmac-sha1"],
)
def test_h29_hmac_signature_method(root, algorithm):
    one(root, "//ds:SignatureMethod").set("Algorithm", algorithm)
    # The attacker's MAC, keyed with the certificate bytes, would verify in a naive HMAC verifier.
    refuse(
        bytes_of(root), WsSecurityFault.UNSUPPORTED_ALGORITHM, "SignatureMethod is not rsa-sha256/384/512"
    )


@pytest.mark.parametrize("length", ["0", "8"])
def test_h30_hmac_output_length(root, length):
    method = one(root, "//ds:SignatureMethod")
    method.set("Algorithm", "http://www.w3.org/2000/09/xmldsig#hmac-sha1")
    etree.SubElement(method, f"{{{DS}}}HMACOutputLength").text = length
    refuse(bytes_of(root), WsSecurityFault.UNSUPPORTED_ALGORITHM, "SignatureMethod")


def test_h30_hmac_output_length_under_an_rsa_method(root):
    etree.SubElement(one(root, "//ds:SignatureMethod"), f"{{{DS}}}HMACOutputLength").text = "0"
    refuse(
        bytes_of(root),
        WsSecurityFault.UNSUPPORTED_ALGORITHM,
        "SignatureMethod has parameters (HMACOutputLength)",
    )


def test_h31_md5_digest(root):
    reference(root, "h-body").find(f"{{{DS}}}DigestMethod").set(
        "Algorithm", "http://www.w3.org/2001/04/xmldsig-more#md5"
    )
    refuse(bytes_of(root), WsSecurityFault.UNSUPPORTED_ALGORITHM, "DigestMethod is not sha256/384/512")


def test_h31_rsa_md5_signature(root):
    one(root, "//ds:SignatureMethod").set("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#rsa-md5")
    refuse(
        bytes_of(root), WsSecurityFault.UNSUPPORTED_ALGORITHM, "SignatureMethod is not rsa-sha256/384/512"
    )


def test_h32_rsa_sha1_and_sha1_digests_even_when_valid(root, sleutel):
    one(root, "//ds:SignatureMethod").set("Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
    for method in root.iterfind(f".//{{{DS}}}DigestMethod"):
        method.set("Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1")
    resign(root, sleutel)  # zeep's defaults, correctly signed
    refuse(
        bytes_of(root), WsSecurityFault.UNSUPPORTED_ALGORITHM, "SignatureMethod is not rsa-sha256/384/512"
    )


def test_h33_one_reference_with_sha1(root, sleutel):
    last = one(root, "//ds:SignedInfo").findall(f"{{{DS}}}Reference")[-1]
    last.find(f"{{{DS}}}DigestMethod").set("Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1")
    resign(root, sleutel)
    refuse(bytes_of(root), WsSecurityFault.UNSUPPORTED_ALGORITHM, "DigestMethod is not sha256/384/512")


def test_sha384_and_sha512_are_accepted(root, sleutel):
    one(root, "//ds:SignatureMethod").set("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512")
    methods = root.findall(f".//{{{DS}}}DigestMethod")
    for index, method in enumerate(methods):
        method.set(
            "Algorithm",
            ["http://www.w3.org/2001/04/xmldsig-more#sha384", "http://www.w3.org/2001/04/xmlenc#sha512"][
                index % 2
            ],
        )
    resign(root, sleutel)
    assert check_all(bytes_of(root)).signed == all_ids(root)


@pytest.mark.parametrize(
    ("variant", "contains"),
    [
        ("ec", "signing key is not RSA"),
        ("dsa", "signing key is not RSA"),
        ("rsa1024", "RSA key of 1024 bits (min 2048)"),
    ],
)
def test_h34_weak_or_non_rsa_key(root, keys, variant, contains):
    one(root, "//wsse:BinarySecurityToken").text = getattr(keys, variant).der_base64
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, contains)


_C14N_VARIANTS = [
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
    "http://www.w3.org/2006/12/xml-c14n11",
    "http://www.w3.org/2006/12/xml-c14n11#WithComments",
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
]


@pytest.mark.parametrize("algorithm", _C14N_VARIANTS)
def test_h35_other_c14n_on_signed_info(root, algorithm):
    one(root, "//ds:CanonicalizationMethod").set("Algorithm", algorithm)
    refuse(
        bytes_of(root), WsSecurityFault.UNSUPPORTED_ALGORITHM, "CanonicalizationMethod is not exclusive c14n"
    )


@pytest.mark.parametrize("algorithm", _C14N_VARIANTS)
def test_h35_other_c14n_as_transform(root, algorithm):
    reference(root, timestamp_id(root)).find(f"{{{DS}}}Transforms/{{{DS}}}Transform").set(
        "Algorithm", algorithm
    )
    refuse(bytes_of(root), WsSecurityFault.UNSUPPORTED_ALGORITHM, "Transform is not exclusive c14n")


def test_h35_reference_without_transforms_means_inclusive_c14n(root):
    ref = reference(root, "h-to")
    ref.remove(ref.find(f"{{{DS}}}Transforms"))
    refuse(bytes_of(root), WsSecurityFault.UNSUPPORTED_ALGORITHM, "ds:Reference without exc-c14n Transform")


@pytest.mark.parametrize(
    "algorithm",
    ["http://www.w3.org/TR/1999/REC-xslt-19991116", "http://www.w3.org/TR/1999/REC-xpath-19991116"],
)
def test_h36_non_c14n_canonicalization_method(root, algorithm):
    one(root, "//ds:CanonicalizationMethod").set("Algorithm", algorithm)
    refuse(
        bytes_of(root), WsSecurityFault.UNSUPPORTED_ALGORITHM, "CanonicalizationMethod is not exclusive c14n"
    )


def _prefix_list(method, list_: str):
    inclusive = method.find(f"{{{EC}}}InclusiveNamespaces")
    if inclusive is None:
        inclusive = etree.SubElement(method, f"{{{EC}}}InclusiveNamespaces", nsmap={"ec": EC})
    inclusive.set("PrefixList", list_)
    return inclusive


@pytest.mark.parametrize("count", [65, 5000])
def test_h37_huge_prefix_list(root, count):
    transform = reference(root, "h-body").find(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    _prefix_list(transform, " ".join(f"p{n}" for n in range(count)))
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "Transform PrefixList above 64 prefixes")


@pytest.mark.parametrize("prefix_list", ["a:b", "#foo", "#default#default", "1abc"])
def test_h37_malformed_prefix_list(root, prefix_list):
    _prefix_list(one(root, "//ds:CanonicalizationMethod"), prefix_list)
    refuse(
        bytes_of(root), WsSecurityFault.INVALID_SECURITY, "CanonicalizationMethod PrefixList is malformed"
    )


def test_h37_sixty_four_prefixes_are_within_the_limit(root, sleutel):
    transform = reference(root, "h-body").find(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    _prefix_list(transform, " ".join(["wsa", "soap"] + [f"p{n}" for n in range(62)]))
    resign(root, sleutel)
    assert check_all(bytes_of(root)).signed == all_ids(root)


def test_h38_base64_with_line_breaks_spaces_and_escaped_cr(root, sleutel):
    bst = one(root, "//wsse:BinarySecurityToken")
    bst.text = "\n".join(bst.text[i : i + 64] for i in range(0, len(bst.text), 64)) + "\n"
    resign(root, sleutel)  # the BST is signed: its digest changes with the line breaks
    digest = reference(root, "h-body").find(f"{{{DS}}}DigestValue")
    digest.text = digest.text[:20] + "\r\n " + digest.text[20:]
    resign(root, sleutel, digests=False)
    waarde = one(root, "//ds:SignatureValue")
    clean = waarde.text
    waarde.text = "\n" + "\n  ".join(clean[i : i + 76] for i in range(0, len(clean), 76)) + "\n"
    data = bytes_of(root)
    assert b"&#13;" in data  # the CR travels escaped
    result = check_all(data)
    assert result.signed == all_ids(root)
    assert result.signature_value == clean


# --- C. keys, certificates -------------------------------------------------------------------------


def _attacker_key_value() -> etree._Element:
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_numbers()
    key_value = etree.Element(f"{{{DS}}}KeyValue")
    rsa_value = etree.SubElement(key_value, f"{{{DS}}}RSAKeyValue")
    etree.SubElement(rsa_value, f"{{{DS}}}Modulus").text = base64.b64encode(
        numbers.n.to_bytes(256, "big")
    ).decode()
    etree.SubElement(rsa_value, f"{{{DS}}}Exponent").text = "AQAB"
    return key_value


def test_h42_key_value_instead_of_str(root):
    key_info = one(root, "//ds:KeyInfo")
    key_info.remove(key_info[0])
    key_info.append(_attacker_key_value())
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "ds:KeyInfo holds KeyValue or RetrievalMethod")


def test_h43_x509data_plus_a_different_key_value(root, keys):
    key_info = one(root, "//ds:KeyInfo")
    key_info.remove(key_info[0])
    x509_data = etree.SubElement(key_info, f"{{{DS}}}X509Data")
    etree.SubElement(x509_data, f"{{{DS}}}X509Certificate").text = keys.sign.der_base64
    key_info.append(_attacker_key_value())
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "ds:KeyInfo holds KeyValue or RetrievalMethod")


def test_h44_self_signed_certificate_is_left_to_the_trust_step(keys):
    """Trust is vertrouwen.py's decision (FailedCheck there); the verifier returns the certificate."""
    own_signer = Signer(keys.self_signed.key_pem, keys.self_signed.certificate_pem)
    result = check_all(build_request(own_signer))
    assert result.certificate == keys.self_signed.certificaat
    assert result.certificate.issuer == result.certificate.subject


def test_h49_certificate_without_digital_signature(keys):
    pair = keys.without_digital_signature
    data = build_request(Signer(pair.key_pem, pair.certificate_pem))
    refuse(data, WsSecurityFault.INVALID_SECURITY_TOKEN, "lacks the digitalSignature key usage")


def test_h50_pkcs7_value_type(root):
    one(root, "//wsse:BinarySecurityToken").set(
        "ValueType", "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#PKCS7"
    )
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY_TOKEN, "ValueType is not X509v3")


def _der_sequence(inhoud: bytes) -> bytes:
    length = len(inhoud)
    return b"\x30\x82" + length.to_bytes(2, "big") + inhoud


@pytest.mark.parametrize("form", ["pkipath", "two-certificates", "garbage"])
def test_h50_x509v3_holding_something_else(root, keys, form):
    own = base64.b64decode(keys.sign.der_base64)
    other = base64.b64decode(keys.ca.der_base64)
    inhoud = {
        "pkipath": _der_sequence(other + own),  # PkiPath: SEQUENCE OF Certificate, a CA cert injected
        "two-certificates": own + other,
        "garbage": b"geen certificaat",
    }[form]
    one(root, "//wsse:BinarySecurityToken").text = base64.b64encode(inhoud).decode()
    refuse(
        bytes_of(root),
        WsSecurityFault.INVALID_SECURITY_TOKEN,
        "BinarySecurityToken is not one DER X.509 certificate",
    )


def test_h50_bst_text_not_base64(root):
    one(root, "//wsse:BinarySecurityToken").text = "MII*niet-base64*"
    refuse(
        bytes_of(root),
        WsSecurityFault.INVALID_SECURITY_TOKEN,
        "BinarySecurityToken is not one DER X.509 certificate",
    )


def test_h51_without_encoding_type(root):
    del one(root, "//wsse:BinarySecurityToken").attrib["EncodingType"]
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY_TOKEN, "EncodingType is not Base64Binary")


def test_h51_hex_encoding_type(root):
    one(root, "//wsse:BinarySecurityToken").set(
        "EncodingType",
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#HexBinary",
    )
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY_TOKEN, "EncodingType is not Base64Binary")


def test_h51_namespace_qualified_type_attributes(root):
    bst = one(root, "//wsse:BinarySecurityToken")
    for naam in ("ValueType", "EncodingType"):
        bst.set(f"{{{WSSE}}}{naam}", bst.attrib.pop(naam))
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY_TOKEN, "ValueType is not X509v3")


def test_h51_qualified_duplicates_next_to_the_right_ones(root):
    bst = one(root, "//wsse:BinarySecurityToken")
    bst.set(f"{{{WSSE}}}EncodingType", "http://example.invalid/#HexBinary")
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY_TOKEN, "namespace-qualified type attributes")


def _str(root) -> etree._Element:
    return one(root, "//ds:KeyInfo/wsse:SecurityTokenReference")


def test_h52_key_identifier(root):
    token_reference = _str(root)
    token_reference.remove(token_reference[0])
    key_id = etree.SubElement(
        token_reference,
        f"{{{WSSE}}}KeyIdentifier",
        ValueType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier",
    )
    key_id.text = "c2tp"
    error = refuse(
        bytes_of(root), WsSecurityFault.SECURITY_TOKEN_UNAVAILABLE, "KeyIdentifier or IssuerSerial"
    )
    assert (
        error.detail
        == DETAIL_DIRECT_REFERENCE
        == "gebruik een BinarySecurityToken met een directe referentie"
    )


def test_h52_issuer_serial(root, keys):
    token_reference = _str(root)
    token_reference.remove(token_reference[0])
    issuer = etree.SubElement(
        etree.SubElement(token_reference, f"{{{DS}}}X509Data"), f"{{{DS}}}X509IssuerSerial"
    )
    etree.SubElement(
        issuer, f"{{{DS}}}X509IssuerName"
    ).text = keys.sign.certificaat.issuer.rfc4514_string()
    etree.SubElement(issuer, f"{{{DS}}}X509SerialNumber").text = str(
        keys.sign.certificaat.serial_number
    )
    error = refuse(
        bytes_of(root), WsSecurityFault.SECURITY_TOKEN_UNAVAILABLE, "KeyIdentifier or IssuerSerial"
    )
    assert error.detail == DETAIL_DIRECT_REFERENCE


def test_h52_x509data_in_key_info(root, keys):
    key_info = one(root, "//ds:KeyInfo")
    key_info.remove(key_info[0])
    etree.SubElement(
        etree.SubElement(key_info, f"{{{DS}}}X509Data"), f"{{{DS}}}X509Certificate"
    ).text = keys.sign.der_base64
    error = refuse(
        bytes_of(root),
        WsSecurityFault.SECURITY_TOKEN_UNAVAILABLE,
        "ds:X509Data instead of a token reference",
    )
    assert error.detail == DETAIL_DIRECT_REFERENCE


@pytest.mark.parametrize(
    "waarde", [None, "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#PKCS7"]
)
def test_h53_str_reference_value_type_missing_or_wrong(root, waarde):
    reference = _str(root)[0]
    if waarde is None:
        del reference.attrib["ValueType"]
    else:
        reference.set("ValueType", waarde)
    error = refuse(
        bytes_of(root), WsSecurityFault.INVALID_SECURITY_TOKEN, "STR Reference ValueType is not X509v3"
    )
    assert error.detail is None


def test_h53_str_reference_uri_not_local(root):
    _str(root)[0].set("URI", "http://aanvaller.example/cert")
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY_TOKEN, "STR Reference URI is not #NCName")


def test_h54_bst_after_the_signature_is_accepted(root):
    security(root).append(one(root, "//wsse:BinarySecurityToken"))
    names = [etree.QName(kind).localname for kind in security(root)]
    assert names == ["Timestamp", "Signature", "BinarySecurityToken"]
    assert check_all(bytes_of(root)).signed == all_ids(root)


def test_h55_trusted_certificate_but_another_signing_key(keys):
    bst_less_signer = Signer(keys.sign.key_pem, keys.sign.certificate_pem, sign_bst=False)
    root = tree(build_request(bst_less_signer))
    one(root, "//wsse:BinarySecurityToken").text = keys.other.der_base64
    refuse(bytes_of(root), WsSecurityFault.FAILED_CHECK, "signature value does not verify")


def test_digests_made_to_match_a_changed_body_still_need_a_new_signature(root):
    """Only SignedInfo's signature is left once every digest matches (issue 18: the references are
    digested once, by the verifier): a Body changed with its DigestValue updated fails there."""
    one(root, "/soap:Envelope/soap:Body")[0][0].text = "99ZZ"
    body = reference(root, "h-body")
    fresh = verification.digest(one(root, "/soap:Envelope/soap:Body"), ((),), "sha256")
    body.find(f"{{{DS}}}DigestValue").text = base64.b64encode(fresh).decode()
    refuse(bytes_of(root), WsSecurityFault.FAILED_CHECK, "signature value does not verify")


def test_a_signature_made_with_another_hash_than_its_signature_method_fails(root, sleutel):
    """SignatureMethod says rsa-sha512, the value was made with SHA-256: the method named is the one run."""
    resign(root, sleutel)  # rsa-sha256, valid
    one(root, "//ds:SignatureMethod").set("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512")
    refuse(bytes_of(root), WsSecurityFault.FAILED_CHECK, "signature value does not verify")


def test_h55_a_certificate_kept_from_an_earlier_request_still_needs_its_own_signature(keys):
    """The verifier keeps each certificate's parsed form and key (issue 18); a certificate seen and
    accepted before, then carried by a message another key signed, is still refused."""
    other_signer = Signer(keys.other.key_pem, keys.other.certificate_pem)
    verified = check_all(build_request(other_signer))
    assert verified.certificate.public_bytes(Encoding.DER) == base64.b64decode(keys.other.der_base64)
    kept = verification._load_kept_key.cache_info().currsize
    assert kept >= 1
    without_bst = Signer(keys.sign.key_pem, keys.sign.certificate_pem, sign_bst=False)
    root = tree(build_request(without_bst))
    one(root, "//wsse:BinarySecurityToken").text = keys.other.der_base64
    refuse(bytes_of(root), WsSecurityFault.FAILED_CHECK, "signature value does not verify")
    assert verification._load_kept_key.cache_info().currsize == kept  # the kept key was the one used


def test_h55_swapped_bst_that_is_signed_fails_on_its_digest(root, keys):
    one(root, "//wsse:BinarySecurityToken").text = keys.other.der_base64
    refuse(
        bytes_of(root),
        WsSecurityFault.FAILED_CHECK,
        f"digest mismatch on reference #{bst_id(root)} (BinarySecurityToken)",
    )


def test_h94_retrieval_method(root):
    key_info = one(root, "//ds:KeyInfo")
    etree.SubElement(key_info, f"{{{DS}}}RetrievalMethod", URI="#h-keyinfo2")
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "KeyValue or RetrievalMethod")


# --- D. Timestamp ----------------------------------------------------------------------------------


def _set_time(root, sleutel, created: str | None, expires: str | None) -> bytes:
    stamp = one(root, "//wsse:Security/wsu:Timestamp")
    for naam, waarde in (("Created", created), ("Expires", expires)):
        element = stamp.find(f"{{{WSU}}}{naam}")
        if waarde is None:
            stamp.remove(element)
        else:
            element.text = waarde
    resign(root, sleutel)
    return bytes_of(root)


def test_h56_expires_in_the_past(root, sleutel):
    data = _set_time(root, sleutel, "2027-02-01T08:00:00.000Z", "2027-02-01T08:01:00.000Z")
    refuse(data, WsSecurityFault.MESSAGE_EXPIRED, "wsu:Expires has passed", now=NOW + timedelta(seconds=61))


def test_h57_created_more_than_300_s_old_without_expires(root, sleutel):
    data = _set_time(root, sleutel, "2027-02-01T08:00:00.000Z", None)
    refuse(
        data,
        WsSecurityFault.MESSAGE_EXPIRED,
        "wsu:Created more than 300 s old",
        now=NOW + timedelta(seconds=301),
    )
    assert check_all(data, NOW + timedelta(seconds=300)).created == NOW


def test_h58_created_120_s_in_the_future(signer):
    data = build_request(signer, NOW + timedelta(seconds=120))
    refuse(data, WsSecurityFault.MESSAGE_EXPIRED, "wsu:Created more than 60 s in the future")


def test_h59_created_30_s_in_the_future_is_accepted(signer):
    data = build_request(signer, NOW + timedelta(seconds=30))
    assert check_all(data).created == NOW + timedelta(seconds=30)


def test_limits_come_from_settings(soap_request):
    refuse(
        soap_request,
        WsSecurityFault.MESSAGE_EXPIRED,
        "more than 10 s old",
        now=NOW + timedelta(seconds=11),
        max_age_s=10,
    )
    assert check_all(soap_request, NOW + timedelta(days=365), check_time=False).created == NOW


def test_h60_expires_earlier_than_created(root, sleutel):
    data = _set_time(root, sleutel, "2027-02-01T08:00:00.000Z", "2027-02-01T07:59:00.000Z")
    refuse(data, WsSecurityFault.INVALID_SECURITY, "wsu:Expires is not later than wsu:Created")


def test_h60_expires_placed_before_created(root, sleutel):
    stamp = one(root, "//wsse:Security/wsu:Timestamp")
    stamp.append(stamp.find(f"{{{WSU}}}Created"))
    resign(root, sleutel)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "wsu:Created is not the first child")


def test_h61_no_timestamp(root):
    stamp = one(root, "//wsse:Security/wsu:Timestamp")
    remove_reference(root, timestamp_id(root))
    stamp.getparent().remove(stamp)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "0 wsu:Timestamp elements")


def test_h61_two_timestamps(root):
    second = copy.deepcopy(one(root, "//wsse:Security/wsu:Timestamp"))
    second.set(WSU_ID, "h-ts2")
    security(root).insert(0, second)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "2 wsu:Timestamp elements")


@pytest.mark.parametrize(
    ("change", "contains"),
    [
        ("leeg", "without wsu:Created"),
        ("geen-created", "without wsu:Created"),
        ("twee-created", "more than one wsu:Created"),
        ("extra", "child other than Created/Expires"),
    ],
)
def test_h61_timestamp_content(root, sleutel, change, contains):
    stamp = one(root, "//wsse:Security/wsu:Timestamp")
    created = stamp.find(f"{{{WSU}}}Created")
    if change == "leeg":
        for kind in list(stamp):
            stamp.remove(kind)
    elif change == "geen-created":
        stamp.remove(created)
    elif change == "twee-created":
        stamp.insert(1, copy.deepcopy(created))
    else:
        etree.SubElement(stamp, f"{{{WSSE}}}Nonce").text = "bm9uY2U="
    resign(root, sleutel)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, contains)


@pytest.mark.parametrize(
    ("created", "contains"),
    [
        ("2027-02-01T09:00:00.000+01:00", "wsu:Created is not an xs:dateTime in UTC"),
        ("2027-02-01T08:00:00.000", "wsu:Created is not an xs:dateTime in UTC"),
        ("2027-02-01T07:59:60.000Z", "wsu:Created has seconds >= 60"),
        (
            "2027-02-01T08:00:00.0001Z",
            "wsu:Created is not an xs:dateTime in UTC with Z and <= 3 fraction digits",
        ),
    ],
    ids=["offset", "no-zone", "leap-second", "four-fraction-digits"],
)
def test_h62_created_form(root, sleutel, created, contains):
    data = _set_time(root, sleutel, created, "2027-02-01T08:05:00.000Z")
    refuse(data, WsSecurityFault.INVALID_SECURITY, contains)


def test_h65_new_message_id_under_a_replayed_signature(soap_request):
    """The MessageID is signed, so a replay with a fresh MessageID fails on its digest (the
    SignatureValue replay cache is the persistence layer's second line)."""
    data = soap_request.replace(b"000000000001</wsa:MessageID>", b"000000000002</wsa:MessageID>")
    assert data != soap_request
    error = refuse(data, WsSecurityFault.FAILED_CHECK)
    assert error.wss is WsSecurityFault.FAILED_CHECK
    assert error.reason == "wsse:FailedCheck digest mismatch on reference #h-msg (wsa:MessageID)"


def test_h63_timestamp_present_but_not_signed(root, sleutel):
    remove_reference(root, timestamp_id(root))
    resign(root, sleutel)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "coverage: wsu:Timestamp is not signed")


# --- G. inputs that must be accepted; canonicalisation ---------------------------------------------


def test_h113_whitespace_and_syntax_outside_and_inside_signed_content(soap_request, root):
    data = soap_request.replace(b"\n    <wsa:MessageID", b"\n\n\t <wsa:MessageID")  # between header blocks
    data = data.replace(b"<vva:brinVo>99XA</vva:brinVo>", b"<vva:brinVo>&#x39;9X<![CDATA[A]]></vva:brinVo>")
    bst = one(root, "//wsse:BinarySecurityToken")
    ident, waarde, encoding = (bst.get(naam).encode() for naam in (WSU_ID, "ValueType", "EncodingType"))
    original = b'<wsse:BinarySecurityToken wsu:Id="%s" ValueType="%s" EncodingType="%s">' % (
        ident,
        waarde,
        encoding,
    )
    reordered = b"<wsse:BinarySecurityToken EncodingType='%s'\n ValueType='%s'  wsu:Id='%s' >" % (
        encoding,
        waarde,
        ident,
    )
    assert original in data
    data = data.replace(original, reordered)  # attribute order, quote style, whitespace in the tag
    method = b'<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
    assert method in data
    data = data.replace(method, method[:-2] + b"></ds:SignatureMethod>")  # empty-element form
    assert check_all(data).signed == all_ids(root)


def test_h113_whitespace_inside_signed_content_still_matters(soap_request):
    data = soap_request.replace(b"<vva:brinVo>99XA</vva:brinVo>", b"<vva:brinVo>99XA </vva:brinVo>")
    refuse(data, WsSecurityFault.FAILED_CHECK, "digest mismatch on reference #h-body (Body)")


def test_h114_comment_inserted_into_signed_body_text(soap_request, root):
    data = soap_request.replace(
        b"<vva:brinVo>99XA</vva:brinVo>", b"<vva:brinVo>99<!-- opmerking -->XA</vva:brinVo>"
    )
    assert check_all(data).signed == all_ids(root)


@pytest.mark.parametrize("split", [b"99999<!---->0019", b"<![CDATA[99999]]>0019"])
def test_h115_identifier_split_by_comment_or_cdata(soap_request, root, split):
    data = soap_request.replace(b"999990019", split)
    bsn = parse_message(data).find(".//{urn:nl:vva:aanmelden:v1}bsn")
    assert "".join(bsn.itertext()) == "999990019"  # the joined value is what was signed
    assert check_all(data).signed == all_ids(root)


def test_h116_envelope_and_header_prefix_renamed(soap_request, root):
    data = soap_request.replace(
        b"<soap:Envelope ", b'<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" '
    )
    data = data.replace(b"</soap:Envelope>", b"</S:Envelope>")
    data = data.replace(b"<soap:Header>", b"<S:Header>").replace(b"</soap:Header>", b"</S:Header>")
    assert b"<S:Header>" in data and b"<soap:Body" in data
    assert check_all(data).signed == all_ids(root)


def test_h117_prefix_of_a_signed_element_changed(soap_request):
    data = soap_request.replace(b"<wsa:To wsu:Id", b'<a:To xmlns:a="http://www.w3.org/2005/08/addressing" wsu:Id')
    data = data.replace(b"</wsa:To>", b"</a:To>")
    refuse(data, WsSecurityFault.FAILED_CHECK, "digest mismatch on reference #h-to (wsa:To)")


def test_h117_default_namespace_redeclared_inside_signed_body(soap_request):
    data = soap_request.replace(
        b"<vva:brinVo>99XA</vva:brinVo>", b'<brinVo xmlns="urn:nl:vva:aanmelden:v1">99XA</brinVo>'
    )
    refuse(data, WsSecurityFault.FAILED_CHECK, "digest mismatch on reference #h-body (Body)")


def test_h118_inclusive_namespaces_in_any_order_and_whitespace(root, sleutel):
    transform = reference(root, "h-body").find(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    _prefix_list(transform, "wsa soap")  # wsa is in scope but not used in Body: it changes the digest
    resign(root, sleutel)
    assert check_all(bytes_of(root)).signed == all_ids(root)
    # Another order, with tabs and newlines on the wire: the parser turns each into a space
    # (XML 1.0 attribute-value normalisation), and that is what the sender signed.
    _prefix_list(transform, "   soap    wsa  ")
    resign(root, sleutel, digests=False)
    data = bytes_of(root).replace(b'PrefixList="   soap    wsa  "', b'PrefixList="\n  soap\t\r\n\t\twsa \t"')
    assert b"\t\r\n\t\twsa" in data  # CRLF counts once (XML 1.0 §2.11)
    assert check_all(data).signed == all_ids(root)


def test_h118_escaped_tab_in_prefix_list_is_refused_clearly(root, sleutel):
    """xmlsec1 splits on spaces only: an escaped tab (&#9;) would silently change the digest input."""
    transform = reference(root, "h-body").find(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    _prefix_list(transform, "soap\twsa")
    resign(root, sleutel)
    assert b"soap&#9;wsa" in bytes_of(root)
    refuse(
        bytes_of(root),
        WsSecurityFault.INVALID_SECURITY,
        "Transform PrefixList separated by escaped tab or newline",
    )


def test_h119_prefix_list_on_signed_info_is_honoured(root, sleutel):
    _prefix_list(one(root, "//ds:CanonicalizationMethod"), "wsa soap")
    resign(root, sleutel, digests=False)  # SignedInfo c14n with xmlns:wsa and xmlns:soap
    assert check_all(bytes_of(root)).signed == all_ids(root)


def test_h119_a_signature_that_ignored_the_prefix_list_fails(root, sleutel):
    _prefix_list(one(root, "//ds:CanonicalizationMethod"), "wsa soap")
    resign(root, sleutel, digests=False, ignore_prefix_list=True)  # a signer that ignored the list
    refuse(bytes_of(root), WsSecurityFault.FAILED_CHECK, "signature value does not verify")


def test_h120_signature_in_the_default_namespace(soap_request, root, sleutel):
    data = soap_request.replace(b"<ds:", b"<").replace(b"</ds:", b"</")
    data = data.replace(
        b'xmlns:ds="http://www.w3.org/2000/09/xmldsig#"', b'xmlns="http://www.w3.org/2000/09/xmldsig#"'
    )
    new = tree(data)
    assert new.xpath("//*[local-name()='Signature']")[0].prefix is None
    resign(new, sleutel, digests=False)  # SignedInfo's c14n changed with its prefix
    assert check_all(bytes_of(new)).signed == all_ids(root)


def test_h121_crlf_line_endings(soap_request, root):
    data = soap_request.replace(b"\n", b"\r\n")
    assert b"\r\n      <vva:brinVo>" in data  # inside the signed Body too
    assert check_all(data).signed == all_ids(root)


def test_h122_signed_part_reserialised_by_an_intermediary(soap_request):
    data = soap_request.replace(
        b'<vva:meldenPotentieleMboGanger xmlns:vva="urn:nl:vva:aanmelden:v1">',
        b'<vva:meldenPotentieleMboGanger xmlns:x="urn:x" xmlns:vva="urn:nl:vva:aanmelden:v1">',
    ).replace(b"\n      <vva:brinVo>", b"\n        <vva:brinVo>")
    error = refuse(data, WsSecurityFault.FAILED_CHECK)
    assert error.wss is WsSecurityFault.FAILED_CHECK
    assert error.reason == "wsse:FailedCheck digest mismatch on reference #h-body (Body)"


def test_default_prefix_in_prefix_list_is_left_to_xmlsec(root, sleutel):
    """lxml drops '#default'; the reference is then verified by xmlsec alone (still strict)."""
    transform = reference(root, "h-body").find(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    _prefix_list(transform, "#default")
    resign(root, sleutel)  # no default namespace is in scope at Body: same digest either way
    assert check_all(bytes_of(root)).signed == all_ids(root)
    one(root, "/soap:Envelope/soap:Body")[0][0].text = "99ZZ"
    refuse(bytes_of(root), WsSecurityFault.FAILED_CHECK, "signature value does not verify")


@pytest.mark.parametrize(
    "extra",
    [
        f'<wsse:BinarySecurityToken xmlns:wsse="{WSSE}">MIIB</wsse:BinarySecurityToken>',
        f'<wsse:UsernameToken xmlns:wsse="{WSSE}"><wsse:Password>geheim</wsse:Password></wsse:UsernameToken>',
        '<xenc:EncryptedKey xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"/>',
        '<x:Iets xmlns:x="urn:x"/>',
    ],
    ids=["tweede-bst", "usernametoken", "encryptedkey", "vreemd"],
)
def test_s1_nothing_else_in_the_security_header(root, extra):
    security(root).append(etree.fromstring(extra))
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "in wsse:Security")


def test_s8_signatureconfirmation_only_in_answers(root):
    from broker.edukoppeling.wss.constants import WSSE11

    etree.SubElement(security(root), f"{{{WSSE11}}}SignatureConfirmation", Value="abc")
    refuse(
        bytes_of(root),
        WsSecurityFault.INVALID_SECURITY,
        "unexpected SignatureConfirmation",
        confirmation_allowed=False,
    )


def test_h28_reference_to_a_part_that_wb004_does_not_name(root, sleutel):
    body_kind = one(root, "/soap:Envelope/soap:Body/*")
    body_kind.set(WSU_ID, "h-binnen")
    new = copy.deepcopy(reference(root, "h-body"))
    new.set("URI", "#h-binnen")
    one(root, "//ds:SignedInfo").append(new)
    resign(root, sleutel)
    refuse(bytes_of(root), WsSecurityFault.INVALID_SECURITY, "signs a part WB004 does not name")


def test_trust_is_asked_before_the_digests(root):
    """An untrusted signer is refused before any digest is computed: on a message whose Body was also
    tampered with, the trust answer wins over the digest mismatch (the digests are the costly part)."""
    from broker.edukoppeling.envelope import read_envelope
    from broker.edukoppeling.parsing import parse_message
    from broker.edukoppeling.wss.verification import verify_envelope

    one(root, "/soap:Envelope/soap:Body/*").append(etree.Element("{urn:x}erbij"))
    envelope = read_envelope(parse_message(bytes_of(root)), wss_allowed=True)
    requested = []

    def refuse_sender(certificate):
        requested.append(certificate.serial_number)
        raise EdukoppelingFault(FaultCode.CLIENT_EK0031, "untrusted signer", wss=WsSecurityFault.FAILED_CHECK)

    with pytest.raises(EdukoppelingFault, match="untrusted signer"):
        verify_envelope(envelope, NOW, trust_check=refuse_sender)
    assert len(requested) == 1
    # With a trusting callback the tampering is what fails, and its answer is the signer's OIN.
    with pytest.raises(EdukoppelingFault, match="digest mismatch"):
        verify_envelope(envelope, NOW, trust_check=lambda certificate: "00000099000000000042")


# --- issue 18 review: what xmlsec's full verification refused, and our own checks alone do not -----


@pytest.mark.parametrize("space", ["\u00a0", "\u2028", "\u3000", "\u0085"], ids=["nbsp", "ls", "ideographic", "nel"])
@pytest.mark.parametrize("field", ["SignatureValue", "DigestValue"])
def test_h38_base64_with_whitespace_outside_xml_whitespace_is_refused(root, sleutel, field, space):
    """xs:base64Binary allows only XML whitespace (#x20, #x9, #xA, #xD) between its characters, and
    xmlsec1 skips only those. ``_base64`` drops whatever Python's ``str.split`` calls whitespace
    (NBSP, U+2028, U+3000, NEL...). Before issue 18 xmlsec read the SignatureValue and every
    DigestValue itself and refused these (wsse:FailedCheck); now the verifier decodes its own
    cleaned text and accepts them. The SignatureValue is outside SignedInfo, so anyone on the path
    can make such a variant of a signed message."""
    if field == "SignatureValue":
        value = one(root, "//ds:SignatureValue")
        value.text = value.text[:10] + space + value.text[10:]
    else:
        digest = reference(root, "h-body").find(f"{{{DS}}}DigestValue")
        digest.text = digest.text[:10] + space + digest.text[10:]
        resign(root, sleutel, digests=False)  # the signer put it there: SignedInfo verifies
    with pytest.raises(EdukoppelingFault) as info:
        check_all(bytes_of(root))
    assert info.value.code is FaultCode.CLIENT_EK0031
    # FailedCheck as before issue 18 (or InvalidSecurity "is not base64", refused as malformed).
    assert info.value.wss in (WsSecurityFault.FAILED_CHECK, WsSecurityFault.INVALID_SECURITY), info.value.reason


#: How the installed libxmlsec reads an empty PrefixList token. libxmlsec 1.3.9 (in python-xmlsec
#: 1.3.17's wheel) keeps it and canonicalises it as ``#default``, as the xmlsec1 CLI does; libxmlsec
#: 1.3.13 (in 1.3.18's wheel) drops it, as lxml and the exclusive-c14n spec (a whitespace-separated
#: list) do. The invariant the H118/H119 tests hold is "the same outcome as xmlsec's own full
#: verification", so what they expect follows the library the broker runs on.
XMLSEC_KEEPS_EMPTY_PREFIX_TOKENS = xmlsec.get_libxmlsec_version() < (1, 3, 13)


def _with_default_namespace(root) -> etree._Element:
    """The request with a default namespace declared on the Envelope: in scope everywhere, used nowhere."""
    data = bytes_of(root).replace(b"<soap:Envelope ", b'<soap:Envelope xmlns="urn:x:standaard" ', 1)
    return tree(data)


@pytest.mark.parametrize("list_", ["soap  wsa", " soap", "  "], ids=["double-space", "leading-space", "spaces-only"])
def test_h118_empty_prefix_list_token_is_the_default_namespace_for_xmlsec(root, sleutel, list_):
    """xmlsec1 splits a PrefixList on every single space and keeps the empty tokens; libxml2's
    exclusive c14n reads an empty prefix as ``#default``. With a default namespace in scope, xmlsec
    therefore digested the Body with ``xmlns="..."`` and our digest (empty tokens dropped) without it:
    before issue 18 the two disagreed and the message was refused (wsse:FailedCheck). Now the
    ``#default`` fallback looks for the literal token only, xmlsec no longer digests, and the message
    is accepted. A libxmlsec that drops empty tokens reads the digest as lxml does and accepts it."""
    changed = _with_default_namespace(root)
    transform = reference(changed, "h-body").find(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    _prefix_list(transform, list_)
    resign(changed, sleutel)  # digests as lxml computes them: empty tokens dropped
    if XMLSEC_KEEPS_EMPTY_PREFIX_TOKENS:
        refuse(bytes_of(changed), WsSecurityFault.FAILED_CHECK)
    else:
        assert check_all(bytes_of(changed)).signed == all_ids(root)


def test_h119_empty_token_in_signed_info_prefix_list_as_xmlsec_reads_it(root, sleutel):
    """The other direction, on SignedInfo: a sender whose stack canonicalises like xmlsec1 (the empty
    token of "ds  wsu" names the default namespace) was accepted before issue 18, when xmlsec verified
    SignedInfo; lxml now canonicalises SignedInfo without ``xmlns="..."`` and refuses it. A libxmlsec
    that drops empty tokens refuses it too."""
    changed = _with_default_namespace(root)
    _prefix_list(one(changed, "//ds:CanonicalizationMethod"), "ds  wsu")
    signed_info = one(changed, "//ds:SignedInfo")
    c14n = etree.tostring(signed_info, method="c14n", exclusive=True, inclusive_ns_prefixes=["ds", "wsu"])
    assert c14n.startswith(b"<ds:SignedInfo xmlns:ds=")
    as_xmlsec = c14n.replace(b"<ds:SignedInfo ", b'<ds:SignedInfo xmlns="urn:x:standaard" ', 1)
    private = serialization.load_pem_private_key(sleutel, password=None)
    value = private.sign(as_xmlsec, padding.PKCS1v15(), hashes.SHA256())
    one(changed, "//ds:SignatureValue").text = base64.b64encode(value).decode()
    if XMLSEC_KEEPS_EMPTY_PREFIX_TOKENS:
        assert check_all(bytes_of(changed)).signed == all_ids(root)
    else:
        refuse(bytes_of(changed), WsSecurityFault.FAILED_CHECK)


@pytest.mark.parametrize(
    ("path", "name", "shadow"),
    [
        ("//ds:Transform/ec:InclusiveNamespaces", "PrefixList", "#default"),
        ("//ds:Reference[@URI='#h-body']", "URI", "#h-to"),
        ("//ds:SignatureMethod", "Algorithm", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"),
        ("//ds:CanonicalizationMethod", "Algorithm", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"),
    ],
    ids=["prefix-list", "uri", "signature-method", "c14n-method"],
)
def test_h51_qualified_lookalike_before_a_ds_attribute_that_xmlsec_reads(root, sleutel, path, name, shadow):
    """xmlsec1 reads PrefixList, URI and Algorithm with libxml2's ``xmlGetProp``, which ignores the
    namespace and takes the first attribute of that local name; the verifier reads the unqualified
    one. A ``x:PrefixList="#default"`` (or ``x:URI``, ``x:Algorithm``) placed first made xmlsec verify
    something else than our checks, and before issue 18 the message was refused (wsse:FailedCheck);
    now only our reading counts and it is accepted, the ``#default`` fallback included. The BST's
    qualified type attributes are refused for this reason (H51); these should be too."""
    changed = _with_default_namespace(root)  # so that "#default" changes the Body's digest
    if name == "PrefixList":
        _prefix_list(reference(changed, "h-body").find(f"{{{DS}}}Transforms/{{{DS}}}Transform"), "soap")
    element = one(changed, path)
    value = element.attrib.pop(name)
    element.set(f"{{urn:x:schaduw}}{name}", shadow)  # first in document order
    element.set(name, value)
    resign(changed, sleutel)
    data = bytes_of(changed)
    assert data.index(f':{name}="'.encode()) < data.index(f' {name}="{value}"'.encode())
    with pytest.raises(EdukoppelingFault) as info:
        check_all(data)
    assert info.value.code is FaultCode.CLIENT_EK0031
    assert info.value.wss in (WsSecurityFault.FAILED_CHECK, WsSecurityFault.INVALID_SECURITY), info.value.reason


def test_h6_signed_wsu_id_with_surrounding_whitespace_is_not_the_referenced_id(root, sleutel):
    """``id_index`` strips ids so that near-equal ids count as duplicates (H5). Resolving a reference
    through it also makes ``#h-body`` name ``wsu:Id=" h-body "``; xmlsec looked the exact value up and
    found nothing, so before issue 18 such a message was refused (wsse:FailedCheck). Now it is
    accepted, though a verifier that looks ids up exactly, as xmlsec1 does, refuses it."""
    body = one(root, "/soap:Envelope/soap:Body")
    body.set(WSU_ID, " h-body ")
    fresh = verification.digest(body, ((),), "sha256")
    reference(root, "h-body").find(f"{{{DS}}}DigestValue").text = base64.b64encode(fresh).decode()
    resign(root, sleutel, digests=False)
    with pytest.raises(EdukoppelingFault) as info:
        check_all(bytes_of(root))
    assert info.value.code is FaultCode.CLIENT_EK0031
    assert info.value.wss in (WsSecurityFault.FAILED_CHECK, WsSecurityFault.INVALID_SECURITY), info.value.reason


def _with_relative_namespace(data: bytes, root, path: str) -> bytes:
    """``data`` with ``xmlns:zz="rel/ative"`` declared on the element at ``path``, after signing."""
    name = etree.QName(one(root, path)).localname
    start = re.search(rb"<(\w+:)?" + name.encode() + rb"[ >]", data).group(0)
    return data.replace(start, start[:-1] + b' xmlns:zz="rel/ative"' + start[-1:], 1)


@pytest.mark.parametrize("path", ["//ds:Signature", "//ds:SignedInfo", "//ds:SignatureMethod"])
def test_relative_namespace_uri_around_signed_info_is_a_clear_ek0031(soap_request, root, path):
    """Canonicalisation must fail on a relative namespace URI. xmlsec reported that as a failed
    verification (EK0031 wsse:FailedCheck) before issue 18; lxml's c14n of SignedInfo now raises
    ``etree.C14NError``, which escapes ``verify_envelope`` and becomes a server fault. The
    declaration sits outside every signed part, so anyone can add it to any message on the way."""
    data = _with_relative_namespace(soap_request, root, path)
    with pytest.raises(EdukoppelingFault) as info:
        check_all(data)
    assert info.value.code is FaultCode.CLIENT_EK0031


@pytest.mark.parametrize("path", ["/soap:Envelope", "//soap:Header", "//wsse:Security"])
def test_relative_namespace_uri_in_scope_of_a_signed_part_is_a_clear_ek0031(soap_request, root, path):
    """The same relative namespace URI on an ancestor of a signed part: ``_check_digests`` canonicalises
    that part with lxml, which raises ``etree.C14NError`` out of ``verify_envelope`` (a server fault).
    Older than issue 18 (5072197 fails the same way), found in its review."""
    data = _with_relative_namespace(soap_request, root, path)
    with pytest.raises(EdukoppelingFault) as info:
        check_all(data)
    assert info.value.code is FaultCode.CLIENT_EK0031


def test_certificates_of_refused_messages_are_not_kept_in_memory(root):
    """The certificate cache of issue 18 (``_load_certificate``) is bounded in count (1024), not in
    size, and fills in step 3, before the trust check and before any signature is verified. Every
    message that merely parses keeps its BST's DER bytes and parsed certificate for the process's
    life: 1024 certificates of up to ~7.5 MB each (10 MiB requests) from an unauthenticated sender.
    Before issue 18 nothing outlived the request."""
    import gc
    import tracemalloc

    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes as chashes

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "groot.test")])
    padding = cx509.UnrecognizedExtension(cx509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\0" * 2**20)
    data = bytes_of(root)
    bst = one(root, "//wsse:BinarySecurityToken").text
    messages = []
    for serial in range(1, 9):
        certificate = (
            cx509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(serial).not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=1))
            .add_extension(padding, critical=False).sign(key, chashes.SHA256())
        )
        der = base64.b64encode(certificate.public_bytes(Encoding.DER))
        messages.append(data.replace(bst.encode(), der))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for message in messages:
            refuse(message, WsSecurityFault.FAILED_CHECK)  # the BST is signed: its digest fails
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 2**20, f"{kept / 2**20:.1f} MiB kept after refusing 8 messages with 1 MiB certificates"


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + body


def _der_children(der: bytes) -> list[bytes]:
    """The TLVs inside one DER SEQUENCE."""

    def header(data: bytes, i: int) -> tuple[int, int]:
        n = data[i + 1]
        if n < 0x80:
            return i + 2, n
        return i + 2 + (n & 0x7F), int.from_bytes(data[i + 2 : i + 2 + (n & 0x7F)], "big")

    start, n = header(der, 0)
    body, parts, i = der[start : start + n], [], 0
    while i < len(body):
        s, m = header(body, i)
        parts.append(body[i : s + m])
        i = s + m
    return parts


def test_rsa_pss_certificate_that_xmlsec_cannot_load_is_ek0031_not_a_server_fault(root, sleutel):
    """keys.rsa_key accepts an id-RSASSA-PSS SubjectPublicKeyInfo (cryptography reads the RSA key and
    ignores the PSS parameters). OpenSSL, under xmlsec, cannot load such a key when its parameters
    name a hash it does not know: ``xmlsec.Key.from_memory`` raises ``xmlsec.Error('cannot load key')``.
    Before issue 18 the key was loaded inside ``_verify_cryptographically``'s ``try``, so this was
    Client.EK0031 FailedCheck; since 816865b ``_verification_key`` runs before the ``try`` and the
    xmlsec.Error escapes the verifier (a server fault, DK0050, from any sender the trust callback
    lets through, and a traceback in ``vva`` verify / the conformance runner, which pass none)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pss.test")])
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    spki = certificate.public_key().public_bytes(Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    unknown_hash = _tlv(0x30, bytes.fromhex("0609608648016503040263"))  # 2.16.840.1.101.3.4.2.99
    pss = _tlv(0x30, bytes.fromhex("06092a864886f70d01010a") + _tlv(0x30, _tlv(0xA0, unknown_hash)))
    new_spki = _tlv(0x30, pss + _der_children(spki)[1])
    tbs, signature_alg, signature = _der_children(certificate.public_bytes(Encoding.DER))
    tbs = _tlv(0x30, b"".join(new_spki if part == spki else part for part in _der_children(tbs)))
    der = _tlv(0x30, tbs + signature_alg + signature)
    assert x509.load_der_x509_certificate(der).public_key().key_size == 2048  # passes step 3
    one(root, "//wsse:BinarySecurityToken").text = base64.b64encode(der).decode()
    resign(root, sleutel)
    refuse(bytes_of(root), WsSecurityFault.FAILED_CHECK, "signature value does not verify")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("//wsse:SecurityTokenReference/wsse:Reference", "URI"),  # xmlsec never reads the STR: the key is given
        ("//ds:SignedInfo/ds:Reference[1]", "Type"),  # xmlsec reads a Reference's Type only to record it
    ],
)
def test_qualified_attribute_that_no_one_reads_in_place_of_ours_is_accepted_as_before(root, sleutel, path, name):
    """b872382 refuses a namespace-qualified URI/Algorithm/PrefixList/Type *anywhere* in ds:Signature.
    Where neither this verifier nor xmlsec can read it in place of the unqualified one (an STR's
    wsse:Reference, whose URI xmlsec never reads since the key is set; a Reference's informational
    Type), the message verified before issue 18 and is now InvalidSecurity: a message accepted
    before is refused."""
    one(root, path).set(f"{{urn:example:extensie}}{name}", "#elders" if name == "URI" else "urn:example:type")
    resign(root, sleutel)
    check_all(bytes_of(root))


def test_h118_empty_token_in_a_transform_prefix_list_digested_as_xmlsec_reads_it_is_refused_as_before(
    root, sleutel
):
    """The H118 case signed the other way: the Body's DigestValue computed as xmlsec1 reads "soap  wsa"
    (the empty token is the default namespace, so ``xmlns="..."`` on the Body). Before issue 18 our own
    digest (empty tokens dropped) and xmlsec's both had to match, so no DigestValue could pass and the
    message was refused (wsse:FailedCheck). b872382 turns the empty token into ``#default``, which
    ``_check_digests`` skips, and xmlsec's full verification alone now accepts it."""
    changed = _with_default_namespace(root)
    body_ref = reference(changed, "h-body")
    _prefix_list(body_ref.find(f"{{{DS}}}Transforms/{{{DS}}}Transform"), "soap  wsa")
    body = one(changed, "/soap:Envelope/soap:Body")
    c14n = etree.tostring(body, method="c14n", exclusive=True, inclusive_ns_prefixes=["soap", "wsa"])
    assert c14n.startswith(b"<soap:Body xmlns:soap=")
    as_xmlsec = c14n.replace(b"<soap:Body ", b'<soap:Body xmlns="urn:x:standaard" ', 1)
    body_ref.find(f"{{{DS}}}DigestValue").text = base64.b64encode(hashlib.sha256(as_xmlsec).digest()).decode()
    resign(changed, sleutel, digests=False)
    refuse(bytes_of(changed), WsSecurityFault.FAILED_CHECK)


def test_h37_sixty_four_prefixes_with_one_double_space_are_accepted_as_before(root, sleutel):
    """H37 counts prefixes (max 64). Before b872382 an empty token (a double space) was dropped and
    not counted, so 64 prefixes separated once by two spaces verified (no default namespace in scope:
    our digest and xmlsec's agree). ``_prefix_tokens`` now counts the empty token as ``#default``,
    and the same message is refused as "above 64 prefixes": a message accepted before is refused."""
    transform = reference(root, "h-body").find(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    _prefix_list(transform, " ".join(f"p{n}" for n in range(63)) + "  vva")
    resign(root, sleutel)
    check_all(bytes_of(root))


@pytest.mark.parametrize("space", ["\u00a0", "\u2028", "\u0085"], ids=["nbsp", "ls", "nel"])
def test_h38_bst_with_non_xml_whitespace_signed_by_the_sender_is_accepted_as_before(root, sleutel, space):
    """xmlsec never decoded the BinarySecurityToken (the verifier hands it the certificate's key), so
    before issue 18 only ``_base64`` read the BST, and it dropped what Python calls whitespace: a BST
    with an NBSP, U+2028 or NEL in its base64, signed as it stands, verified. b872382 narrowed
    ``_base64`` to XML whitespace for every field, to match what xmlsec read in SignatureValue and
    DigestValue; for the BST, which xmlsec did not read, that refuses a message accepted before
    (InvalidSecurityToken "not one DER X.509 certificate")."""
    bst = one(root, "//wsse:BinarySecurityToken")
    bst.text = bst.text[:64] + space + bst.text[64:]
    resign(root, sleutel)  # the sender signed the BST with this text
    check_all(bytes_of(root))


@pytest.mark.parametrize("extra", ["=", "=="])
def test_h38_digest_value_with_padding_after_a_full_quantum_is_refused_as_before(root, sleutel, extra):
    """A SHA-384 DigestValue is 48 bytes: 64 base64 characters, no padding. Python's
    ``b64decode(validate=True)`` ignores '=' after a complete quantum ("...AAAA=" and "...AAAA=="
    decode to the same 48 bytes), xmlsec1's decoder does not. Before issue 18 xmlsec decoded every
    DigestValue in its full verification and refused this (FailedCheck, even with a valid signature
    over SignedInfo); now only ``_base64``/``b64decode`` reads it and the message is accepted."""
    for method in root.iterfind(f".//{{{DS}}}DigestMethod"):
        method.set("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#sha384")
    resign(root, sleutel)
    value = reference(root, "h-body").find(f"{{{DS}}}DigestValue")
    assert len(value.text) == 64 and not value.text.endswith("=")
    value.text += extra
    resign(root, sleutel, digests=False)  # the sender signed SignedInfo with this text
    with pytest.raises(EdukoppelingFault) as info:
        check_all(bytes_of(root))
    assert info.value.code is FaultCode.CLIENT_EK0031


@pytest.fixture(scope="module")
def signer_3072(keys) -> Signer:
    """A sender with an RSA-3072 key (PKIoverheid issues them): its SignatureValue is 384 bytes,
    512 base64 characters without padding."""
    sleutel = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    ca = x509.load_pem_x509_certificate(keys.ca.certificate_pem)
    ca_key = serialization.load_pem_private_key(keys.ca.key_pem, password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rsa3072.test")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca.subject)
        .public_key(sleutel.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = sleutel.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Signer(key_pem, certificate.public_bytes(serialization.Encoding.PEM))


@pytest.mark.parametrize("extra", ["=", "=="])
def test_h38_signature_value_with_padding_after_a_full_quantum_is_refused_as_before(signer_3072, extra):
    """An RSA-3072 SignatureValue is 384 bytes: 512 base64 characters, no padding. Python's
    ``b64decode(validate=True)`` ignores '=' after a complete quantum, xmlsec1's decoder does not.
    Before issue 18 xmlsec decoded the SignatureValue itself and refused "...AAAA=" (FailedCheck); now
    ``verify_binary`` gets Python's decoding and the message is accepted, with ``signature_value``
    (echoed in SignatureConfirmation, S8) differing from the value that was signed only by padding."""
    root = tree(build_request(signer_3072))
    check_all(bytes_of(root))  # as signed: accepted
    value = one(root, "//ds:SignatureValue")
    assert len(value.text) == 512 and not value.text.endswith("=")
    value.text += extra  # outside SignedInfo: anyone on the path can add it
    with pytest.raises(EdukoppelingFault) as info:
        check_all(bytes_of(root))
    assert info.value.code is FaultCode.CLIENT_EK0031
