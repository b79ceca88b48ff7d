"""Keys, certificates and envelopes for the WS-Security tests, all made here with ``cryptography``.

A test CA issues the signing certificate (RSA-2048, subject serialNumber ``00000099000000000042``,
digitalSignature) and the hostile variants: RSA-1024, EC, DSA, no digitalSignature, another key,
and a self-signed one. Everything lives in one temporary directory per test session.
Helpers (importable as ``tests.wss.conftest``) build a 2W-be-S request (the checklist's example, §7.1),
run the inbound pipeline (parse_bericht → read_envelope → verify_envelope) and re-sign a mutated
SignedInfo for attacks that need a valid signature over something.
"""

from __future__ import annotations

import base64
import hashlib
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID
from lxml import etree

from broker.edukoppeling.envelope import Envelope, read_envelope
from broker.edukoppeling.ns import SOAP11, WSA, WSSE, WSU
from broker.edukoppeling.parsing import parse_message
from broker.edukoppeling.wss.constants import DS, EC
from broker.edukoppeling.wss.signer import Signer
from broker.edukoppeling.wss.verification import Verified, VerifierSettings, verify_envelope

#: The clock of every test: the moment of the §7.1 example.
NOW = datetime(2027, 2, 1, 8, 0, 0, tzinfo=UTC)
OIN = "00000099000000000042"
NS = {"soap": SOAP11, "wsa": WSA, "wsse": WSSE, "wsu": WSU, "ds": DS, "ec": EC}
#: The wsu:Ids the §7.1 request carries before signing (the signer keeps existing ids).
FIXED_IDS = {"h-action", "h-msg", "h-to", "h-from", "h-body"}


@dataclass(frozen=True)
class KeyPair:
    """A private key and its certificate, as PEM bytes and as files in the session's tmp dir."""

    key_pem: bytes
    certificate_pem: bytes
    key_path: Path
    certificate_path: Path

    @property
    def certificaat(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate_pem)

    @property
    def der_base64(self) -> str:
        return base64.b64encode(self.certificaat.public_bytes(serialization.Encoding.DER)).decode()


@dataclass(frozen=True)
class Keys:
    ca: KeyPair
    sign: KeyPair
    other: KeyPair
    rsa1024: KeyPair
    ec: KeyPair
    dsa: KeyPair
    without_digital_signature: KeyPair
    self_signed: KeyPair


def _name(cn: str, serial_number: str | None = None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if serial_number:
        parts.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    return x509.Name(parts)


def _key_usage(digital_signature: bool, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _write(folder: Path, naam: str, sleutel, certificate: x509.Certificate) -> KeyPair:
    key_pem = sleutel.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
    (folder / f"{naam}.key").write_bytes(key_pem)
    (folder / f"{naam}.pem").write_bytes(certificate_pem)
    return KeyPair(key_pem, certificate_pem, folder / f"{naam}.key", folder / f"{naam}.pem")


def _certificate(
    subject, sleutel, issuer_name, issuer_key, key_usage, ca=False
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(sleutel.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _dsa(sheet):
    """The DSA variant: a hostile key the broker refuses from the certificate's algorithm identifier,
    never loading it (broker/edukoppeling/keys.py). cryptography deprecated DSA and warns when one
    is made; making one is the point here, so that warning is expected in this one place."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "DSA is deprecated", CryptographyDeprecationWarning)
        return sheet("dsa", dsa.generate_private_key(key_size=2048))


@pytest.fixture(scope="session")
def keys(tmp_path_factory) -> Keys:
    """The test CA and every signing-certificate variant (session-wide, generated once)."""
    folder = tmp_path_factory.mktemp("wss-keys")
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("VVA Test CA - FICTIEF")
    ca_cert = _certificate(ca_name, ca_key, ca_name, ca_key, _key_usage(False, ca=True), ca=True)

    def sheet(naam, sleutel, digital_signature=True, serial_number=OIN):
        subject = _name(f"{naam}.test", serial_number)
        certificate = _certificate(subject, sleutel, ca_name, ca_key, _key_usage(digital_signature))
        return _write(folder, naam, sleutel, certificate)

    own = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    own_name = _name("zelf.test", OIN)
    own_certificate = _certificate(own_name, own, own_name, own, _key_usage(True))
    return Keys(
        ca=_write(folder, "ca", ca_key, ca_cert),
        sign=sheet("onderteken", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        other=sheet("ander", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        rsa1024=sheet("rsa1024", rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        ec=sheet("ec", ec.generate_private_key(ec.SECP256R1())),
        dsa=_dsa(sheet),
        without_digital_signature=sheet(
            "zonder-ds",
            rsa.generate_private_key(public_exponent=65537, key_size=2048),
            digital_signature=False,
        ),
        self_signed=_write(folder, "zelf", own, own_certificate),
    )


@pytest.fixture(scope="session")
def signer(keys) -> Signer:
    """The regional system's signer (certificate serialNumber 00000099000000000042), BST signed."""
    return Signer(keys.sign.key_pem, keys.sign.certificate_pem)


# The §7.1 request (a regional system for school 99XA, with a mandate), unsigned, with the reading whitespace of the document.
REQUEST_71 = """<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing"
    xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">
  <soap:Header>
    <wsa:Action wsu:Id="h-action">urn:nl:vva:aanmelden:v1/meldenPotentieleMboGanger</wsa:Action>
    <wsa:MessageID wsu:Id="h-msg">urn:uuid:0f0f0f0f-1111-4222-8333-000000000001</wsa:MessageID>
    <wsa:To wsu:Id="h-to">https://vva.example/aanmelden/v1?oin=00000099000000000001</wsa:To>
    <wsa:From wsu:Id="h-from"><wsa:Address
        >http://www.w3.org/2005/08/addressing/anonymous?oin=0000000700099XA00000</wsa:Address></wsa:From>
  </soap:Header>
  <soap:Body wsu:Id="h-body">
    <vva:meldenPotentieleMboGanger xmlns:vva="urn:nl:vva:aanmelden:v1">
      <vva:brinVo>99XA</vva:brinVo>
      <vva:leerling><vva:bsn>999990019</vva:bsn><vva:achternaam>Fictief</vva:achternaam></vva:leerling>
    </vva:meldenPotentieleMboGanger>
  </soap:Body>
</soap:Envelope>
"""


def build_request(signer: Signer, now: datetime = NOW, text: str = REQUEST_71) -> bytes:
    """The §7.1 request signed by ``signer`` at ``now``, as the bytes that go on the wire."""
    root = etree.fromstring(text.encode())
    signer.sign(root, now)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def parse(data: bytes) -> Envelope:
    """The steps before WS-Security: the one hardened parse and the envelope check."""
    return read_envelope(parse_message(data), wss_allowed=True)


def check_all(data: bytes, now: datetime = NOW, **settings) -> Verified:
    """parse_bericht → read_envelope → verify_envelope, as the inbound pipeline runs it."""
    return verify_envelope(parse(data), now, VerifierSettings(**settings))


def tree(data: bytes) -> etree._Element:
    """A plain, mutable tree of test bytes (the attacker's view: no limits needed)."""
    return etree.fromstring(data)


def bytes_of(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def one(root: etree._Element, path: str) -> etree._Element:
    """The single element at XPath ``path`` (prefixes from ``NS``)."""
    found = root.xpath(path, namespaces=NS)
    assert len(found) == 1, (path, len(found))
    return found[0]


def with_id(root: etree._Element, ident: str) -> etree._Element:
    return one(root, f"//*[@wsu:Id='{ident}']")


_HASH = {
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
}
_RSA_HASH = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": hashes.SHA256(),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": hashes.SHA384(),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": hashes.SHA512(),
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": hashes.SHA1(),
}


def _prefixes(method: etree._Element) -> list[str] | None:
    inclusive = method.find(f"{{{EC}}}InclusiveNamespaces")
    return inclusive.get("PrefixList").split() if inclusive is not None else None


def resign(
    root: etree._Element, key_pem: bytes, digests: bool = True, ignore_prefix_list: bool = False
) -> etree._Element:
    """Re-sign a mutated Signature the way an attacker with a key would (test-only, independent code).

    ``digests``: first recompute every DigestValue of a ``#wsu:Id`` reference (exc-c14n with the
    first Transform's PrefixList, hash of the DigestMethod); then sign SignedInfo (exc-c14n with
    the CanonicalizationMethod's PrefixList, unless ``ignore_prefix_list``: a broken signer) with
    RSA PKCS#1 v1.5 and the SignatureMethod's hash.
    """
    signed_info = one(root, "//ds:SignedInfo")
    if digests:
        for reference in signed_info.iterfind(f"{{{DS}}}Reference"):
            target = root.xpath("//*[@wsu:Id=$i]", namespaces=NS, i=reference.get("URI")[1:])[0]
            transform = reference.find(f"{{{DS}}}Transforms/{{{DS}}}Transform")
            data = etree.tostring(
                target,
                method="c14n",
                exclusive=True,
                with_comments=False,
                inclusive_ns_prefixes=_prefixes(transform),
            )
            naam = _HASH[reference.find(f"{{{DS}}}DigestMethod").get("Algorithm")]
            reference.find(f"{{{DS}}}DigestValue").text = base64.b64encode(
                hashlib.new(naam, data).digest()
            ).decode()
    method = signed_info.find(f"{{{DS}}}CanonicalizationMethod")
    prefixes = None if ignore_prefix_list else _prefixes(method)
    data = etree.tostring(
        signed_info, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=prefixes
    )
    sleutel = serialization.load_pem_private_key(key_pem, password=None)
    algorithm = _RSA_HASH[signed_info.find(f"{{{DS}}}SignatureMethod").get("Algorithm")]
    waarde = sleutel.sign(data, padding.PKCS1v15(), algorithm)
    signed_info.getparent().find(f"{{{DS}}}SignatureValue").text = base64.b64encode(waarde).decode()
    return root


def reference(root: etree._Element, ident: str) -> etree._Element:
    """The ds:Reference with URI ``#ident``."""
    return one(root, f"//ds:Reference[@URI='#{ident}']")


def timestamp_id(root: etree._Element) -> str:
    return one(root, "//wsse:Security/wsu:Timestamp").get(f"{{{WSU}}}Id")


def bst_id(root: etree._Element) -> str:
    return one(root, "//wsse:Security/wsse:BinarySecurityToken").get(f"{{{WSU}}}Id")
