"""Signing of the broker's own messages (S2, S4, S5, S8, S9, R7).

Written for the 2W-be-S profile, not after zeep's defaults: a Timestamp the signer creates itself,
one Reference per signed part (Body, Timestamp, each wsa header block, SignatureConfirmation, BST),
exc-c14n with rsa-sha256/sha256 only, the BST before the Signature, and KeyInfo as a direct
SecurityTokenReference to that BST (WUS WB004, WB007, WB009, WB010; docs/rules.md, "Known weaknesses": zeep).
Each part is digested as it stands (lxml's exclusive c14n, hashlib's SHA-256), then SignedInfo is
canonicalised the same way and signed with RSA PKCS#1 v1.5 SHA-256 by cryptography: the very
canonicalisation the verifier digests with, and no id lookup. python-xmlsec, used here before, ran
libxml2's node-set c14n per Reference over the whole document; that made signing an answer with eight
parts cost three times the RSA operation (issue 18, bench/README.md). Every answer is still verified
by xmlsec (tests/wss/test_signer.py), xmlsec1, WSS4J and gSOAP (tests/interop).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key
from lxml import etree

from broker.edukoppeling.keys import MIN_RSA_BITS, rsa_key
from broker.edukoppeling.ns import SOAP11, WSA, WSSE, WSU, q
from broker.edukoppeling.wss.constants import (
    BASE64_BINARY,
    DS,
    EXC_C14N,
    RSA_SHA256,
    SHA256,
    WSSE11,
    X509V3,
)
from broker.edukoppeling.wss.verification import NCNAME, exc_c14n, id_index

#: Lifetime of the emitted Timestamp (S6: Expires = Created + 300 s).
VALIDITY = timedelta(seconds=300)
_WSU_ID = q(WSU, "Id")
_WEAK_KEY_TEXT = f"signing key must be RSA with at least {MIN_RSA_BITS} bits (SIGN004, PKIoverheid)"


class Signer:
    """Signs SOAP 1.1 envelopes with one key and certificate, loaded once.

    ``key_pem``: unencrypted PEM private key (RSA, >= 2048 bits); ``certificate_pem``: the
    matching certificate, sent as the BinarySecurityToken; ``sign_bst``: also sign the BST
    (O2, config ``sign_bst``). Raises ValueError for another key type, a short key,
    or a key that does not belong to the certificate. Safe to share between threads: nothing in it
    changes after construction, and cryptography's key signs for concurrent callers.
    """

    def __init__(self, key_pem: bytes, certificate_pem: bytes, sign_bst: bool = True) -> None:
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        # The certificate's algorithm first: a DSA or EC pair is refused without loading its key.
        public = rsa_key(certificate)
        if public is None:
            raise ValueError(_WEAK_KEY_TEXT)
        private = load_pem_private_key(key_pem, password=None)
        if not isinstance(private, rsa.RSAPrivateKey) or private.key_size < MIN_RSA_BITS:
            raise ValueError(_WEAK_KEY_TEXT)
        if private.public_key().public_numbers() != public.public_numbers():
            raise ValueError("signing key does not belong to the certificate")
        self._private = private
        self._bst_text = base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")
        self.certificate = certificate
        self.sign_bst = sign_bst

    @classmethod
    def from_files(cls, key_file: Path, certificate_file: Path) -> Signer:
        """A signer of the PEM key and certificate in these files (``broker.bootstrap.build_signer``
        and ``vva envelope sign`` build theirs here). Raises ValueError as the constructor does."""
        return cls(Path(key_file).read_bytes(), Path(certificate_file).read_bytes())

    def sign(self, envelope_root: etree._Element, now: datetime, confirm: str | None = None) -> etree._Element:
        """Add one signed wsse:Security header to ``envelope_root`` in place and return the root.

        In: a SOAP 1.1 Envelope with a Body (and no wsse:Security yet), the clock ``now``
        (timezone-aware), and for a response the request's SignatureValue ``confirm`` (S8), which
        becomes a signed wsse11:SignatureConfirmation. The header is the last child of soap:Header
        (created if absent), as in DUO's own signed answers: gSOAP's WS-Security plugin refuses a
        message ("Message body not signed") when a signed header block follows wsse:Security. It
        holds Timestamp, BST, SignatureConfirmation, Signature, in that order, without
        mustUnderstand. Every signed element without a wsu:Id gets a fresh one.
        Raises ValueError for a naive ``now``, a non-SOAP-1.1 root, an existing Security header, or
        duplicate ids or an id that is not an NCName among the signed elements; lxml's C14NError
        for an envelope c14n cannot render (a relative namespace URI).
        """
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("nu must be timezone-aware")
        header, body = _header_and_body(envelope_root)
        security = etree.Element(q(WSSE, "Security"), nsmap={"wsse": WSSE, "wsu": WSU})
        header.append(security)
        timestamp = _timestamp(security, now)
        bst = self._bst(security)
        signed = [body, timestamp] + [block for block in header if _is_wsa(block)]
        if confirm is not None:
            signed.append(_confirmation(security, confirm))
        if self.sign_bst:
            signed.append(bst)
        ids = [_ensure_id(element) for element in signed]
        _check_unique(envelope_root, ids)
        signature = _template(security, ids, bst.get(_WSU_ID))
        self._sign_message(signature, signed)
        return envelope_root

    def _bst(self, security: etree._Element) -> etree._Element:
        bst = etree.SubElement(
            security,
            q(WSSE, "BinarySecurityToken"),
            {_WSU_ID: _new_id(), "ValueType": X509V3, "EncodingType": BASE64_BINARY},
        )
        bst.text = self._bst_text
        return bst

    def _sign_message(self, signature: etree._Element, signed: list[etree._Element]) -> None:
        """Fill in the template: each Reference's DigestValue (``signed`` in the template's order),
        then the SignatureValue over SignedInfo, on one line (it is outside SignedInfo, so partners
        get one line to copy for SignatureConfirmation, S8)."""
        signed_info = signature.find(q(DS, "SignedInfo"))
        references = signed_info.findall(q(DS, "Reference"))
        for reference, element in zip(references, signed, strict=True):
            digest = hashlib.sha256(exc_c14n(element)).digest()
            reference.find(q(DS, "DigestValue")).text = base64.b64encode(digest).decode("ascii")
        value = self._private.sign(exc_c14n(signed_info), padding.PKCS1v15(), hashes.SHA256())
        signature.find(q(DS, "SignatureValue")).text = base64.b64encode(value).decode("ascii")


def _header_and_body(root: etree._Element) -> tuple[etree._Element, etree._Element]:
    if root.tag != q(SOAP11, "Envelope"):
        raise ValueError("not a SOAP 1.1 Envelope")
    body = root.find(q(SOAP11, "Body"))
    if body is None:
        raise ValueError("Envelope without Body")
    header = root.find(q(SOAP11, "Header"))
    if header is None:
        header = etree.Element(q(SOAP11, "Header"))
        root.insert(0, header)
    if header.find(q(WSSE, "Security")) is not None:
        raise ValueError("Envelope already has a wsse:Security header")  # one header only (S1, H14)
    return header, body


def _is_wsa(block: etree._Element) -> bool:
    return isinstance(block.tag, str) and etree.QName(block).namespace == WSA


def _time(moment: datetime) -> str:
    """xs:dateTime in UTC with milliseconds and Z (S6)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _timestamp(security: etree._Element, now: datetime) -> etree._Element:
    created = now.astimezone(UTC)
    created = created.replace(microsecond=created.microsecond // 1000 * 1000)
    timestamp = etree.SubElement(security, q(WSU, "Timestamp"), {_WSU_ID: _new_id()})
    etree.SubElement(timestamp, q(WSU, "Created")).text = _time(created)
    etree.SubElement(timestamp, q(WSU, "Expires")).text = _time(created + VALIDITY)
    return timestamp


def _confirmation(security: etree._Element, confirm: str) -> etree._Element:
    """wsse11:SignatureConfirmation with the request's SignatureValue (WUS WB014; S8)."""
    return etree.SubElement(
        security,
        q(WSSE11, "SignatureConfirmation"),
        {_WSU_ID: _new_id(), "Value": "".join(confirm.split())},
        nsmap={"wsse11": WSSE11},
    )


def _new_id() -> str:
    return f"id-{uuid.uuid4().hex}"


def _ensure_id(element: etree._Element) -> str:
    if element.get(_WSU_ID) is None:
        element.set(_WSU_ID, _new_id())
    return element.get(_WSU_ID)


def _check_unique(root: etree._Element, ids: list[str]) -> None:
    """Our own output must pass our own S3 check: each signed id an NCName (a ``#id`` reference names
    it exactly), unique among all ID-like attributes."""
    if not all(NCNAME.fullmatch(ident) for ident in ids):
        raise ValueError("signed elements need ids that are NCNames")
    index = id_index(root.getroottree().getroot())
    if any(len(index.get(ident.strip(), [])) != 1 for ident in ids):
        raise ValueError("signed elements need unique ids")


def _template(security: etree._Element, ids: list[str], bst_id: str) -> etree._Element:
    """The ds:Signature template: exc-c14n, rsa-sha256, per id one exc-c14n Transform and sha256."""
    signature = etree.SubElement(security, q(DS, "Signature"), nsmap={"ds": DS})
    signed_info = etree.SubElement(signature, q(DS, "SignedInfo"))
    etree.SubElement(signed_info, q(DS, "CanonicalizationMethod"), Algorithm=EXC_C14N)
    etree.SubElement(signed_info, q(DS, "SignatureMethod"), Algorithm=RSA_SHA256)
    for ident in ids:
        reference = etree.SubElement(signed_info, q(DS, "Reference"), URI=f"#{ident}")
        transforms = etree.SubElement(reference, q(DS, "Transforms"))
        etree.SubElement(transforms, q(DS, "Transform"), Algorithm=EXC_C14N)
        etree.SubElement(reference, q(DS, "DigestMethod"), Algorithm=SHA256)
        etree.SubElement(reference, q(DS, "DigestValue"))
    etree.SubElement(signature, q(DS, "SignatureValue"))
    key_info = etree.SubElement(signature, q(DS, "KeyInfo"))
    token_reference = etree.SubElement(key_info, q(WSSE, "SecurityTokenReference"))
    etree.SubElement(token_reference, q(WSSE, "Reference"), URI=f"#{bst_id}", ValueType=X509V3)
    return signature
