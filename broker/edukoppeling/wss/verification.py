"""Verification of an inbound 2W-be-S wsse:Security header (S1–S7, check order step 4).

The checks run in a fixed order and the first failure decides (F4); every failure is
``EdukoppelingFault(FaultCode.CLIENT_EK0031, "<wsse class> <what>")``. The audit reason names the WS-Security
fault class (docs/rules.md, audit classes) and never a payload value.

1. Header shape (S1; H10, H11, H14, H15, H61): one Security header for us, one ds:Signature in the
   whole document and it sits in that header, one Timestamp.
2. Algorithms and structure of the Signature (S4, S5; H17–H19, H24–H37, H42, H43, H52, H53, H94),
   all before any digest or key operation.
3. The BinarySecurityToken (S5; H20, H34, H49–H51): the STR's target is a BST in the same Security
   header (checked here, where the STR has just been read), X509v3/Base64Binary, one DER
   certificate with an RSA key of at least 2048 bits and, if key usage is present, digitalSignature.
4. References (S2, S3; H1–H9, H12, H21, H23, H28, H63): ``#NCName`` only, unique over every ID-like
   attribute of the document, carried as wsu:Id, no element twice, and coverage of the very nodes the
   broker reads: /Envelope/Body, the Timestamp in our Security header, each wsa header block.
5. Cryptography (S7; H55, H113–H122): our own exclusive-c14n digest of each resolved node (precise
   audit reason, and proof that the node we checked is the node whose digest was signed), then
   python-xmlsec verifies the SignatureValue over the canonical SignedInfo with the key of the BST
   certificate only (never a key from KeyInfo, CVE-2021-21239) and the SignatureMethod named; each
   reference is digested once. Where xmlsec1 would read SignedInfo otherwise than this module (a
   PrefixList naming the default namespace, a qualified lookalike attribute), xmlsec's full
   verification of SignedInfo and every Reference runs instead, with only the allowed transforms.
6. Timestamp (S6; H56–H62).

Certificate trust (chain, validity, CRL, OIN) is not decided here: ``Verified.certificate`` goes
to ``broker.edukoppeling.trust_store``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from broker.edukoppeling.envelope import Envelope
from broker.edukoppeling.faults import EdukoppelingFault, FaultCode, WsSecurityFault
from broker.edukoppeling.keys import MIN_RSA_BITS, rsa_key
from broker.edukoppeling.ns import SOAP11, WSA, WSSE, WSU, q
from broker.edukoppeling.parsing import safe_xml_parser
from broker.edukoppeling.wss.constants import (
    BASE64_BINARY,
    DIGEST_METHODS,
    DS,
    EC,
    EXC_C14N,
    RSA_SHA256,
    RSA_SHA384,
    RSA_SHA512,
    SIGNATURE_METHODS,
    WSSE11,
    X509V3,
    XML,
)
from broker.edukoppeling.wss.timestamp import check_timestamp, read_timestamp

#: Detail for a sender that uses another key reference form (H52).
DETAIL_DIRECT_REFERENCE = "gebruik een BinarySecurityToken met een directe referentie"

_ID_ATTRIBUTE_NAMES = frozenset({"Id", "ID", "id"})
# xs:NCName, restricted to what an id needs: a letter or "_" first, then letters, digits, ".", "-", "_".
NCNAME = re.compile(r"[^\W\d][\w.\-]*")
_SOAP_ACTOR = q(SOAP11, "actor")
_WSU_ID = q(WSU, "Id")

# The only transforms xmlsec may run (docs/rules.md, "Known weaknesses": python-xmlsec).
_REFERENCE_TRANSFORMS = (
    xmlsec.constants.TransformExclC14N,
    xmlsec.constants.TransformSha256,
    xmlsec.constants.TransformSha384,
    xmlsec.constants.TransformSha512,
)
_SIGNATURE_TRANSFORMS = (
    xmlsec.constants.TransformExclC14N,
    xmlsec.constants.TransformRsaSha256,
    xmlsec.constants.TransformRsaSha384,
    xmlsec.constants.TransformRsaSha512,
)
#: The xmlsec signature transform of each allowed SignatureMethod (HANDTEKENING_METHODEN).
_SIGNATURE_TRANSFORM = {
    RSA_SHA256: xmlsec.constants.TransformRsaSha256,
    RSA_SHA384: xmlsec.constants.TransformRsaSha384,
    RSA_SHA512: xmlsec.constants.TransformRsaSha512,
}


@dataclass(frozen=True)
class VerifierSettings:
    """Limits of the verifier (docs/rules.md, Limits; H27, H28, H37; O4).

    ``check_time=False`` keeps the Timestamp form check but skips freshness (recorded traffic).
    """

    max_age_s: int = 300
    future_s: int = 60
    max_references: int = 30
    max_transforms: int = 5
    max_prefixes: int = 64
    check_time: bool = True
    confirmation_allowed: bool = True  # False for requests: SignatureConfirmation is an answer's


@dataclass(frozen=True)
class Verified:
    """What a verified message proves.

    ``certificate``: the BST certificate (trust still to be checked); ``signature_value``: the
    ds:SignatureValue text without whitespace (replay key, SignatureConfirmation S8);
    ``signed``: the wsu:Id values of every signed element; ``created``: wsu:Created (UTC);
    ``oin``: the answer of the ``trust_check`` callback.
    """

    certificate: x509.Certificate
    signature_value: str
    signed: frozenset[str]
    created: datetime
    oin: str | None = None  # what ``trust_check`` returned (the signer's OIN), when one was given


@dataclass(frozen=True)
class _Reference:
    """One ds:Reference after the algorithm checks of step 2."""

    uri: str | None
    prefixes_per_transform: tuple[tuple[str, ...], ...]
    digest_name: str
    digest_value: bytes


@dataclass(frozen=True)
class _Signature:
    """The parts of the one ds:Signature after step 2."""

    element: etree._Element
    references: tuple[_Reference, ...]
    signature_value: str
    bst_id: str
    method: str  # the SignatureMethod's Algorithm, one of HANDTEKENING_METHODEN
    prefixes: tuple[str, ...]  # the CanonicalizationMethod's PrefixList


def _make_fault(klass: WsSecurityFault, reason: str, detail: str | None = None) -> EdukoppelingFault:
    return EdukoppelingFault(FaultCode.CLIENT_EK0031, reason, detail, wss=klass)


def _elements(parent: etree._Element) -> list[etree._Element]:
    """Element children; comments are outside exclusive c14n without comments and are skipped."""
    return [kind for kind in parent if isinstance(kind.tag, str)]


def _short(value: str) -> str:
    """An id for the audit log: technical, never payload, but attacker-chosen, so bounded."""
    return value if len(value) <= 64 else value[:61] + "..."


def verify_envelope(
    soap_envelope: Envelope,
    now: datetime,
    settings: VerifierSettings = VerifierSettings(),
    trust_check: Callable[[x509.Certificate], str | None] | None = None,
) -> Verified:
    """Verify the WS-Security header of ``soap_envelope`` (from ``read_envelope(root, wss_allowed=True)``).

    In: the checked envelope, the broker's clock ``now`` (timezone-aware), the limits. Out: a
    ``Verified`` with the signing certificate for the trust step. Raises
    ``EdukoppelingFault(FaultCode.CLIENT_EK0031, reden, detail)`` on the first failing check, in the order of
    the module docstring (S1–S7, check order step 4; WUS WB002–WB013; BSP R3001, R5404).
    ``detail`` is only set for a key reference other than a direct BST reference (H52).
    ``trust_check`` (the trust store's check) runs on the certificate before any digest is computed,
    so an untrusted sender cannot make the broker canonicalise and digest megabytes; whatever it
    raises propagates, what it returns becomes ``Verified.oin``.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("nu must be timezone-aware")
    document = soap_envelope.root.getroottree().getroot()
    security = _security_header(soap_envelope)
    signature = _single_signature(document, security)
    timestamp = _single_timestamp(security)
    parsed_signature = _read_signature(signature, settings)
    index = id_index(document)
    bst = _find_bst(parsed_signature.bst_id, index, security)
    certificate = _read_certificate(bst)
    signed = _resolve_references(parsed_signature.references, index)
    _check_positions(signed, soap_envelope, timestamp, signature)
    _check_coverage(signed, soap_envelope, timestamp)
    _check_only_known_parts(signed, soap_envelope, timestamp, bst, security)
    _check_security_content(security, signature, timestamp, bst, settings)
    # Cheap checks first: trust, then digests and RSA (the expensive part, H28-style cost).
    oin = trust_check(certificate) if trust_check is not None else None
    labels = _labels_of(soap_envelope, timestamp, bst)
    _check_digests(parsed_signature.references, signed, labels)
    _verify_cryptographically(parsed_signature, certificate, signed.values())
    if settings.check_time:
        created = check_timestamp(timestamp, now, settings.max_age_s, settings.future_s)
    else:
        created, _ = read_timestamp(timestamp)
    return Verified(certificate, parsed_signature.signature_value, frozenset(signed), created, oin)


# --- step 1: header shape (S1) ---------------------------------------------------------------------


def _security_header(soap_envelope: Envelope) -> etree._Element:
    """Exactly one wsse:Security header, without soap:actor (S1). One for another actor is never
    processed here, so beside ours it would be an unprocessed header; alone, the message is unsigned
    for us (H14, H15)."""
    if any(block.get(_SOAP_ACTOR) is not None for block in soap_envelope.security):
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "wsse:Security header with a soap:actor")
    if not soap_envelope.security:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "no wsse:Security header")
    if len(soap_envelope.security) > 1:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "more than one wsse:Security header")  # H14
    return soap_envelope.security[0]


def _check_security_content(
    security: etree._Element,
    signature: etree._Element,
    timestamp: etree._Element,
    bst: etree._Element,
    settings: VerifierSettings,
) -> None:
    """The Security header holds the one Timestamp, the one Signature and the BST it uses, and
    nothing else (S1): no second token, no UsernameToken, no EncryptedKey on a -S service, no text;
    a SignatureConfirmation only in answers (S8)."""
    if (security.text or "").strip() or any((kind.tail or "").strip() for kind in security):
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "text in wsse:Security")
    for kind in security:
        if not isinstance(kind.tag, str) or kind is signature or kind is timestamp or kind is bst:
            continue
        if kind.tag == q(WSSE11, "SignatureConfirmation") and settings.confirmation_allowed:
            continue
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY, f"unexpected {etree.QName(kind).localname} in wsse:Security"
        )


def _check_only_known_parts(
    signed: dict[str, etree._Element],
    soap_envelope: Envelope,
    timestamp: etree._Element,
    bst: etree._Element,
    security: etree._Element,
) -> None:
    """Only the parts WB004 names may be signed: the Body, the Timestamp, a wsa header block, the BST
    and a SignatureConfirmation. A reference to anything else buys nothing and costs digests (a
    request with 30 references into the Body costs seconds of CPU)."""
    allowed = [soap_envelope.body, timestamp, bst, *soap_envelope.wsa]
    allowed += [
        k for k in security if isinstance(k.tag, str) and k.tag == q(WSSE11, "SignatureConfirmation")
    ]
    for ident, element in signed.items():
        if not any(element is part for part in allowed):
            raise _make_fault(
                WsSecurityFault.INVALID_SECURITY,
                f"reference #{_short(ident)} signs a part WB004 does not name",
            )


def _single_signature(document: etree._Element, security: etree._Element) -> etree._Element:
    """Exactly one ds:Signature in the whole document, a child of our Security header (H10, H11).

    xmlsec verifies only the node it is given; a second signature would go unchecked (CVE-2021-21238).
    """
    signatures = list(document.iter(q(DS, "Signature")))
    if not signatures:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "no ds:Signature")
    if len(signatures) > 1:
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY, f"{len(signatures)} ds:Signature elements in the message"
        )
    if signatures[0].getparent() is not security:
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY, "ds:Signature is not a child of the wsse:Security header"
        )
    return signatures[0]


def _single_timestamp(security: etree._Element) -> etree._Element:
    """Exactly one wsu:Timestamp child of the Security header (WUS WB002; BSP R3227; H61)."""
    stamps = [kind for kind in _elements(security) if kind.tag == q(WSU, "Timestamp")]
    if len(stamps) != 1:
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY, f"{len(stamps)} wsu:Timestamp elements in wsse:Security"
        )
    return stamps[0]


# --- step 2: algorithms and structure (S4, S5) -----------------------------------------------------


def _read_signature(signature: etree._Element, settings: VerifierSettings) -> _Signature:
    """Check the Signature's structure and every algorithm URI before anything is computed."""
    if signature.find(f".//{{{DS}}}Manifest") is not None:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "ds:Manifest in ds:Signature")  # H19, BSP R5403
    if signature.find(f".//{{{DS}}}Object") is not None:
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY, "ds:Object in ds:Signature (enveloping)"
        )  # H18, BSP R3102
    children = _elements(signature)
    if [kind.tag for kind in children] != [q(DS, "SignedInfo"), q(DS, "SignatureValue"), q(DS, "KeyInfo")]:
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY, "ds:Signature is not SignedInfo, SignatureValue, KeyInfo"
        )
    signed_info, signature_value, key_info = children
    references, prefixes, method = _read_signed_info(signed_info, settings)
    value = _base64(signature_value, "ds:SignatureValue", xml_whitespace_only=True)
    bst_id = _read_key_info(key_info)
    return _Signature(signature, references, value, bst_id, method, prefixes)


def _read_signed_info(
    signed_info: etree._Element, settings: VerifierSettings
) -> tuple[tuple[_Reference, ...], tuple[str, ...], str]:
    """The references, the CanonicalizationMethod's PrefixList and the SignatureMethod, checked."""
    children = _elements(signed_info)
    names = [kind.tag for kind in children]
    if names[:2] != [q(DS, "CanonicalizationMethod"), q(DS, "SignatureMethod")] or any(
        name != q(DS, "Reference") for name in names[2:]
    ):
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "ds:SignedInfo structure")
    prefixes = _check_c14n(children[0], "CanonicalizationMethod", settings)  # H35, H36, H119
    _check_signature_method(children[1])
    references = children[2:]
    if not references:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "ds:SignedInfo without ds:Reference")
    if len(references) > settings.max_references:  # H28: before any digest is computed
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY,
            f"{len(references)} references (max {settings.max_references})",
        )
    method = children[1].get("Algorithm")
    return tuple(_read_reference(reference, settings) for reference in references), prefixes, method


def _check_c14n(method: etree._Element, where: str, settings: VerifierSettings) -> tuple[str, ...]:
    """exc-c14n without comments, optionally with one ec:InclusiveNamespaces; returns its prefixes.

    BSP R5404, R5412, R5407; WUS WB007; H24–H26, H35–H37, H118, H119.
    """
    if method.get("Algorithm") != EXC_C14N:
        raise _make_fault(WsSecurityFault.UNSUPPORTED_ALGORITHM, f"{where} is not exclusive c14n without comments")
    children = _elements(method)
    if not children:
        return ()
    if len(children) > 1 or children[0].tag != q(EC, "InclusiveNamespaces"):
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY, f"{where} has children other than one ec:InclusiveNamespaces"
        )
    prefix_list = children[0].get("PrefixList")
    if prefix_list is None:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, f"{where} ec:InclusiveNamespaces without PrefixList")
    if re.search(r"[\t\r\n]", prefix_list):
        # Literal tabs and newlines became spaces in the parser (XML 1.0 §3.3.3); these were escaped
        # as character references. xmlsec1 splits a PrefixList on spaces only, so it would read one
        # unknown prefix here and digest differently from what the sender meant: refuse clearly.
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY, f"{where} PrefixList separated by escaped tab or newline"
        )
    prefixes = _prefix_tokens(prefix_list)
    if sum(1 for prefix in prefixes if prefix) > settings.max_prefixes:  # H37, CVE-2013-2156
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY, f"{where} PrefixList above {settings.max_prefixes} prefixes"
        )
    if any(prefix not in ("#default", "") and not NCNAME.fullmatch(prefix) for prefix in prefixes):
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, f"{where} PrefixList is malformed")
    return prefixes


def _prefix_tokens(prefix_list: str) -> tuple[str, ...]:
    """The prefixes of a PrefixList as xmlsec1 reads them: split at each single space, an empty token
    between two spaces or before the first one kept as "". libxml2's c14n reads an empty prefix as the
    default namespace, lxml drops it (``exc_c14n``): a list with one is verified by xmlsec in full as
    well as by our digests, as before issue 18 (``_xmlsec_reads_otherwise``; H118, H119)."""
    tokens = prefix_list.split(" ")
    if tokens[-1] == "":
        tokens.pop()  # xmlsec stops at the end of the text: one trailing space makes no token
    return tuple(tokens)


def _check_signature_method(method: etree._Element) -> None:
    """RSA with SHA-2 only; no HMAC and no HMACOutputLength (SIGN004; H29–H32; CVE-2009-0217)."""
    if method.get("Algorithm") not in SIGNATURE_METHODS:
        raise _make_fault(WsSecurityFault.UNSUPPORTED_ALGORITHM, "SignatureMethod is not rsa-sha256/384/512")
    if _elements(method):
        raise _make_fault(
            WsSecurityFault.UNSUPPORTED_ALGORITHM, "SignatureMethod has parameters (HMACOutputLength)"
        )


def _read_reference(reference: etree._Element, settings: VerifierSettings) -> _Reference:
    """Transforms (1..max, each exc-c14n) and DigestMethod of one Reference (BSP R5416, R5423; H33)."""
    children = _elements(reference)
    names = [kind.tag for kind in children]
    if names != [q(DS, "Transforms"), q(DS, "DigestMethod"), q(DS, "DigestValue")]:
        if names == [q(DS, "DigestMethod"), q(DS, "DigestValue")]:
            # Without Transforms the node-set becomes octets by *inclusive* c14n (XMLDSig 4.3.3.2).
            raise _make_fault(WsSecurityFault.UNSUPPORTED_ALGORITHM, "ds:Reference without exc-c14n Transform")
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "ds:Reference structure")
    transforms = _elements(children[0])
    if len(transforms) > settings.max_transforms:  # H27
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY,
            f"{len(transforms)} transforms (max {settings.max_transforms})",
        )
    if not transforms or any(transform.tag != q(DS, "Transform") for transform in transforms):
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "ds:Transforms structure")
    prefixes = tuple(_check_c14n(transform, "Transform", settings) for transform in transforms)
    digest_name = DIGEST_METHODS.get(children[1].get("Algorithm"))
    if digest_name is None or _elements(children[1]):
        raise _make_fault(WsSecurityFault.UNSUPPORTED_ALGORITHM, "DigestMethod is not sha256/384/512")  # H31–H33
    digest_value = base64.b64decode(_base64(children[2], "ds:DigestValue", xml_whitespace_only=True))
    if len(digest_value) != hashlib.new(digest_name).digest_size:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "ds:DigestValue has the wrong length")
    return _Reference(reference.get("URI"), prefixes, digest_name, digest_value)


def _base64(element: etree._Element, field: str, xml_whitespace_only: bool = False) -> str:
    """The base64 text of ``element`` without whitespace (xs:base64Binary allows line breaks; H38).

    ``xml_whitespace_only``: for the values xmlsec1 used to decode itself (SignatureValue,
    DigestValue) the text must be xs:base64Binary as xmlsec1 reads it: only XML whitespace (space,
    tab, CR, LF) is dropped, and any other character Python calls whitespace (NBSP, U+2028, …) or
    padding after a complete group, which Python's decoder ignores, makes the value not base64."""
    if _elements(element):
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, f"{field} has child elements")
    text = "".join(element.itertext())
    text = text.translate(_XML_WHITESPACE) if xml_whitespace_only else "".join(text.split())
    if xml_whitespace_only and not _CANONICAL_BASE64.fullmatch(text):
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, f"{field} is not base64")
    try:
        if not text or not base64.b64decode(text, validate=True):
            raise ValueError
    except (binascii.Error, ValueError):
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, f"{field} is not base64") from None
    return text


#: Base64 in groups of four, padded only in the last (xs:base64Binary without its whitespace).
_CANONICAL_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
#: The four characters XML calls whitespace (XML 1.0 §2.3 S), removed from base64 text.
_XML_WHITESPACE = str.maketrans("", "", " \t\r\n")


def _read_key_info(key_info: etree._Element) -> str:
    """KeyInfo = one STR with one direct wsse:Reference to an X509v3 token; returns the token id.

    WUS WB009, WB010; BSP R5417, R3058, R3059; H42, H43, H52, H53, H94.
    """
    children = _elements(key_info)
    names = {kind.tag for kind in children}
    if names & {q(DS, "KeyValue"), q(DS, "RetrievalMethod")}:
        # Never a key found in the message (CVE-2021-21239); RetrievalMethod chains (CVE-2021-40690).
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "ds:KeyInfo holds KeyValue or RetrievalMethod")
    if names == {q(DS, "X509Data")}:
        raise _make_fault(
            WsSecurityFault.SECURITY_TOKEN_UNAVAILABLE,
            "ds:X509Data instead of a token reference",
            DETAIL_DIRECT_REFERENCE,
        )
    if len(children) != 1 or children[0].tag != q(WSSE, "SecurityTokenReference"):
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY, "ds:KeyInfo must hold exactly one wsse:SecurityTokenReference"
        )
    return _read_str(children[0])


def _read_str(token_reference: etree._Element) -> str:
    children = _elements(token_reference)
    names = [kind.tag for kind in children]
    if q(WSSE, "KeyIdentifier") in names or q(DS, "X509Data") in names:
        # KeyIdentifier (SKI, thumbprint) or IssuerSerial: strict WB010 (H52).
        raise _make_fault(
            WsSecurityFault.SECURITY_TOKEN_UNAVAILABLE,
            "STR uses a KeyIdentifier or IssuerSerial, not a direct reference",
            DETAIL_DIRECT_REFERENCE,
        )
    if names != [q(WSSE, "Reference")]:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY_TOKEN, "STR must hold exactly one wsse:Reference")
    reference = children[0]
    if reference.get("ValueType") != X509V3:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY_TOKEN, "STR Reference ValueType is not X509v3")  # H53
    uri = reference.get("URI") or ""
    if not (uri.startswith("#") and NCNAME.fullmatch(uri[1:])):
        raise _make_fault(WsSecurityFault.INVALID_SECURITY_TOKEN, "STR Reference URI is not #NCName")
    return uri[1:]


# --- step 3: the BinarySecurityToken (S5) ----------------------------------------------------------


def _find_bst(bst_id: str, index: dict, security: etree._Element) -> etree._Element:
    """The BST the STR points at: unique id, a wsu:Id, a child of *our* Security header (H20)."""
    hits = index.get(bst_id, [])
    if len(hits) != 1:
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY_TOKEN,
            f"STR reference #{_short(bst_id)} matches {len(hits)} elements",
        )
    bst, attribute = hits[0]
    if bst.tag != q(WSSE, "BinarySecurityToken") or attribute != _WSU_ID:
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY_TOKEN,
            "STR reference does not name a BinarySecurityToken by wsu:Id",
        )
    if bst.getparent() is not security:
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY_TOKEN,
            "BinarySecurityToken is not in the same wsse:Security header",
        )
    return bst


def _read_certificate(bst: etree._Element) -> x509.Certificate:
    """One DER X.509 certificate with an RSA key >= 2048 bits usable for signatures.

    BSP R3029–R3033 (H50, H51), PKIoverheid key sizes (H34), digitalSignature key usage (H49).
    """
    if bst.get("ValueType") != X509V3:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY_TOKEN, "BinarySecurityToken ValueType is not X509v3")
    if bst.get("EncodingType") != BASE64_BINARY:
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY_TOKEN, "BinarySecurityToken EncodingType is not Base64Binary"
        )
    if any(
        name.startswith("{") and name.rpartition("}")[2] in ("ValueType", "EncodingType")
        for name in bst.attrib
    ):
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY_TOKEN,
            "BinarySecurityToken has namespace-qualified type attributes",
        )
    try:
        der = base64.b64decode(_base64(bst, "BinarySecurityToken"))
        certificate = _load_certificate(der)
    except (EdukoppelingFault, ValueError):
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY_TOKEN, "BinarySecurityToken is not one DER X.509 certificate"
        ) from None
    key = rsa_key(certificate)
    if key is None:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "signing key is not RSA")
    if key.key_size < MIN_RSA_BITS:
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY, f"RSA key of {key.key_size} bits (min {MIN_RSA_BITS})"
        )
    _check_key_usage(certificate)
    return certificate


def _check_key_usage(certificate: x509.Certificate) -> None:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    except ValueError:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY_TOKEN, "certificate extensions are malformed") from None
    if not usage.digital_signature:
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY_TOKEN, "certificate lacks the digitalSignature key usage"
        )


# --- step 4: references, positions, coverage (S2, S3) ----------------------------------------------


def id_index(document: etree._Element) -> dict[str, list[tuple[etree._Element, str]]]:
    """Every ID-like attribute of the document: value -> [(element, attribute name), ...].

    ID-like: any attribute whose local name is ``Id``, ``ID`` or ``id`` in any namespace or none, so
    wsu:Id, a lookalike-namespace Id and xml:id all count (BSP R3001; H3–H6, H23).
    Values are compared without surrounding whitespace, so near-equal ids count as equal.
    """
    index: dict[str, list[tuple[etree._Element, str]]] = defaultdict(list)
    for element in document.iter(etree.Element):
        for name, value in element.attrib.items():
            if name.rpartition("}")[2] in _ID_ATTRIBUTE_NAMES or name == q(XML, "id"):
                index[value.strip()].append((element, name))
    return dict(index)


def _resolve_references(references: tuple[_Reference, ...], index: dict) -> dict[str, etree._Element]:
    """Resolve each ``#id`` to its one element; returns id -> element in SignedInfo order."""
    resolved: dict[str, etree._Element] = {}
    for reference in references:
        uri = reference.uri or ""
        if not (uri.startswith("#") and NCNAME.fullmatch(uri[1:])):
            # Empty URI, xpointer, external or cid: never fetched, never resolved (H7–H9; BSP R3001).
            raise _make_fault(WsSecurityFault.INVALID_SECURITY, "Reference URI is not a same-document #NCName")
        ident = uri[1:]
        hits = index.get(ident, [])
        if len(hits) > 1:
            raise _make_fault(
                WsSecurityFault.FAILED_CHECK, f"duplicate id #{_short(ident)} ({len(hits)} ID attributes)"
            )
        if not hits or hits[0][1] != _WSU_ID:
            raise _make_fault(
                WsSecurityFault.FAILED_CHECK, f"reference #{_short(ident)} does not resolve to a wsu:Id"
            )  # H6
        element = hits[0][0]
        if element.get(_WSU_ID) != ident:
            # The index compares ids stripped (H5); a reference names the exact value, as xmlsec1 reads it.
            raise _make_fault(
                WsSecurityFault.FAILED_CHECK, f"reference #{_short(ident)} does not resolve to a wsu:Id"
            )  # H6
        if ident in resolved or any(element is earlier for earlier in resolved.values()):
            raise _make_fault(WsSecurityFault.INVALID_SECURITY, f"element #{_short(ident)} referenced twice")  # H28
        resolved[ident] = element
    return resolved


def _check_positions(
    signed: dict[str, etree._Element],
    soap_envelope: Envelope,
    timestamp: etree._Element,
    signature: etree._Element,
) -> None:
    """A signed Body, Timestamp or wsa header must be the one at its fixed place (H1, H2, H16, H21).

    Positions are compared as node identities of the envelope that ``read_envelope`` resolved by
    (namespace, local name), never through XPath built from prefixes.
    """
    for ident, element in signed.items():
        if element.tag == q(SOAP11, "Body") and element is not soap_envelope.body:
            raise _make_fault(
                WsSecurityFault.INVALID_SECURITY, f"signed soap:Body #{_short(ident)} is not /Envelope/Body"
            )
        if element.tag == q(WSU, "Timestamp") and element is not timestamp:
            raise _make_fault(
                WsSecurityFault.INVALID_SECURITY,
                f"signed wsu:Timestamp #{_short(ident)} is not in our Security header",
            )
        if etree.QName(element).namespace == WSA and not any(
            element is block or _is_descendant(element, block) for block in soap_envelope.wsa
        ):
            raise _make_fault(
                WsSecurityFault.INVALID_SECURITY,
                f"signed wsa element #{_short(ident)} is not in a wsa header block",
            )
        if element is signature or _is_descendant(element, signature):
            raise _make_fault(
                WsSecurityFault.INVALID_SECURITY, f"reference #{_short(ident)} points into ds:Signature"
            )


def _is_descendant(element: etree._Element, ancestor: etree._Element) -> bool:
    return any(parent is ancestor for parent in element.iterancestors())


def _check_coverage(
    signed: dict[str, etree._Element], soap_envelope: Envelope, timestamp: etree._Element
) -> None:
    """Body, Timestamp and every wsa header block each have their own Reference (WUS WB004; H12, H21, H63)."""
    required = [("soap:Body", soap_envelope.body), ("wsu:Timestamp", timestamp)]
    required += [(f"wsa:{etree.QName(block).localname}", block) for block in soap_envelope.wsa]
    signed_elements = list(signed.values())
    for name, element in required:
        if not any(element is candidate for candidate in signed_elements):
            raise _make_fault(WsSecurityFault.INVALID_SECURITY, f"coverage: {name} is not signed")


# --- step 5: cryptography (S7) ---------------------------------------------------------------------


def _labels_of(
    soap_envelope: Envelope, timestamp: etree._Element, bst: etree._Element
) -> list[tuple[etree._Element, str]]:
    """Names for the audit log: which part a reference covers."""
    labels = [(soap_envelope.body, "Body"), (timestamp, "Timestamp"), (bst, "BinarySecurityToken")]
    return labels + [(block, f"wsa:{etree.QName(block).localname}") for block in soap_envelope.wsa]


def _label_of(element: etree._Element, labels: list[tuple[etree._Element, str]]) -> str:
    return next((name for candidate, name in labels if candidate is element), etree.QName(element).localname)


def _check_digests(
    references: tuple[_Reference, ...], signed: dict[str, etree._Element], labels: list
) -> None:
    """Digest each resolved node ourselves and compare with its DigestValue (H113, H117, H122).

    This names the failing reference in the audit log, and ties the SignedInfo that xmlsec verifies
    next to the very nodes positioned in step 4. lxml drops ``#default`` from a PrefixList, so such a
    reference is left to xmlsec alone (it passes the list to the same libxml2 c14n unchanged).
    """
    for reference, (ident, element) in zip(references, signed.items(), strict=True):
        if any("#default" in prefixes for prefixes in reference.prefixes_per_transform):
            continue
        try:
            computed = digest(element, reference.prefixes_per_transform, reference.digest_name)
        except etree.C14NError:
            raise _make_fault(
                WsSecurityFault.FAILED_CHECK,
                f"reference #{_short(ident)} ({_label_of(element, labels)}) cannot be canonicalised",
            ) from None
        if not hmac.compare_digest(computed, reference.digest_value):
            raise _make_fault(
                WsSecurityFault.FAILED_CHECK,
                f"digest mismatch on reference #{_short(ident)} ({_label_of(element, labels)})",
            )


def digest(
    element: etree._Element, prefixes_per_transform: tuple[tuple[str, ...], ...], digest_name: str
) -> bytes:
    """Digest of ``element`` after a chain of exc-c14n transforms (lxml/libxml2 c14n, hashlib).

    The first transform canonicalises the node-set of the subtree (comments excluded); each next one
    canonicalises the octets of the previous one, as XMLDSig defines a transform chain.
    """
    data = exc_c14n(element, prefixes_per_transform[0])
    for prefixes in prefixes_per_transform[1:]:
        data = exc_c14n(etree.fromstring(data, safe_xml_parser()), prefixes)
    return hashlib.new(digest_name, data).digest()


def exc_c14n(element: etree._Element, prefixes: tuple[str, ...] = ()) -> bytes:
    """Exclusive c14n without comments of ``element``'s subtree as the apex, as a same-document
    ``#id`` reference selects it, with an InclusiveNamespaces PrefixList (the signer digests with it too)."""
    # An empty PrefixList token names no prefix here (it is xmlsec's to judge: _xmlsec_reads_otherwise).
    return etree.tostring(
        element,
        method="c14n",
        exclusive=True,
        with_comments=False,
        inclusive_ns_prefixes=[prefix for prefix in prefixes if prefix] or None,
    )


#: How many certificates' parsed forms and keys a process keeps: a partner signs with one or two at a
#: time, and a few thousand parties are registered nationally; a flood of new certificates only
#: pushes the oldest out (issue 18: "do expensive things once", bounded).
_CERTIFICATES_KEPT = 1024


#: Only certificates up to this size are kept: a PKIoverheid certificate is 1.5–2.5 kB, and the cache
#: fills before the trust check, so a sender's oversized certificates must not stay in memory.
_KEPT_CERTIFICATE_MAX_BYTES = 8192


def _load_certificate(der: bytes) -> x509.Certificate:
    """The certificate of these DER bytes, parsed once per process when it is of ordinary size
    (immutable, so shared by the threads). Keyed by the bytes themselves: a certificate is its bytes.
    Every check on it (``_read_certificate``, the trust store) still runs on every request; a parse
    error is not cached and raises each time."""
    if len(der) > _KEPT_CERTIFICATE_MAX_BYTES:
        return x509.load_der_x509_certificate(der)
    return _load_kept_certificate(der)


@lru_cache(maxsize=_CERTIFICATES_KEPT)
def _load_kept_certificate(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def _verification_key(der: bytes) -> xmlsec.Key:
    """The xmlsec key of a certificate, loaded once per process when it is of ordinary size: loading
    it was a tenth of the verification's cost (bench/README.md). Never changed after loading;
    python-xmlsec duplicates it into each SignatureContext (``context.key = ...``, under the GIL), so
    threads share it read-only."""
    if len(der) > _KEPT_CERTIFICATE_MAX_BYTES:
        return xmlsec.Key.from_memory(der, xmlsec.constants.KeyDataFormatCertDer)
    return _load_kept_key(der)


@lru_cache(maxsize=_CERTIFICATES_KEPT)
def _load_kept_key(der: bytes) -> xmlsec.Key:
    return xmlsec.Key.from_memory(der, xmlsec.constants.KeyDataFormatCertDer)


def _verify_cryptographically(signature: _Signature, certificate: x509.Certificate, elements) -> None:
    """The SignatureValue over SignedInfo, verified by python-xmlsec with the BST certificate's key only.

    Every Reference's digest has been checked by ``_check_digests`` on the very nodes positioned in
    step 4, and SignedInfo names those digests: verifying the signature over SignedInfo completes
    the check. SignedInfo is canonicalised as the references are (lxml's exc-c14n with its
    PrefixList), and only rsa-sha2 can run. xmlsec digesting every reference a second time, with
    libxml2's node-set c14n over the whole document per reference, was the larger part of the
    verification's cost (issue 18).

    Where xmlsec1 would read SignedInfo otherwise (``_xmlsec_reads_otherwise``), xmlsec's full
    verification of SignedInfo and every Reference decides too, as before: only the checked nodes
    are registered as ids, and only exc-c14n, rsa-sha2 and sha2 may run. Since every id is unique in
    the document (step 4) and a DOCTYPE never gets this far (``parse_message``), libxml2's ID lookup
    finds exactly the nodes checked above.
    """
    if _xmlsec_reads_otherwise(signature):
        _verify_fully_with_xmlsec(signature.element, certificate, elements)
        return
    signed_info = signature.element.find(q(DS, "SignedInfo"))
    try:
        canonical = exc_c14n(signed_info, signature.prefixes)
    except etree.C14NError:  # a relative namespace URI in scope, which c14n cannot render
        raise _make_fault(WsSecurityFault.FAILED_CHECK, "ds:SignedInfo cannot be canonicalised") from None
    try:
        context = xmlsec.SignatureContext()
        context.key = _verification_key(certificate.public_bytes(Encoding.DER))
        context.verify_binary(
            canonical, _SIGNATURE_TRANSFORM[signature.method], base64.b64decode(signature.signature_value)
        )
    except xmlsec.Error:
        raise _make_fault(WsSecurityFault.FAILED_CHECK, "signature value does not verify") from None


#: Attributes xmlsec1 reads with libxml2's ``xmlGetProp``, which ignores the namespace and takes the
#: first attribute of that local name.
_READ_BY_LOCAL_NAME = ("URI", "Algorithm", "PrefixList")


def _xmlsec_reads_otherwise(signature: _Signature) -> bool:
    """Whether xmlsec1 would read SignedInfo differently from this verifier: a PrefixList naming the
    default namespace (``#default``, or an empty token: lxml drops both), or a namespace-qualified
    URI, Algorithm or PrefixList before the unqualified one this verifier reads. Such a signature is
    verified by xmlsec in full, after our own checks, exactly as every signature was before issue 18."""
    prefix_lists = [signature.prefixes] + [
        prefixes for reference in signature.references for prefixes in reference.prefixes_per_transform
    ]
    if any("#default" in prefixes or "" in prefixes for prefixes in prefix_lists):
        return True
    signed_info = signature.element.find(q(DS, "SignedInfo"))
    for element in signed_info.iter(etree.Element):
        for name in _READ_BY_LOCAL_NAME:
            first = next((key for key in element.attrib if key.rpartition("}")[2] == name), None)
            if first is not None and first != name:
                return True
    return False


def _verify_fully_with_xmlsec(signature: etree._Element, certificate: x509.Certificate, elements) -> None:
    try:
        context = xmlsec.SignatureContext()
        context.key = _verification_key(certificate.public_bytes(Encoding.DER))
        for element in elements:
            context.register_id(element, "Id", WSU)
        for transform in _REFERENCE_TRANSFORMS:
            context.enable_reference_transform(transform)
        for transform in _SIGNATURE_TRANSFORMS:
            context.enable_signature_transform(transform)
        context.verify(signature)
    except xmlsec.Error:
        raise _make_fault(WsSecurityFault.FAILED_CHECK, "signature value does not verify") from None