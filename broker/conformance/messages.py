"""From a manifest case to the bytes on the wire: fill in the template, sign it with the tester's
key (a fresh Timestamp, MessageID and signature on every replay), then apply the case's mutation.

The signing is the broker's own ``Signer`` (what a correct partner sends); the mutations
reproduce the mistakes of the H rules (docs/rules.md) that a partner's stack plausibly makes, re-signing with
python-xmlsec where the mistake is in what is signed (a missing reference, SHA-1).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from string import Template

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID
from lxml import etree

from broker.conformance.manifest import Case
from broker.edukoppeling.ns import SOAP11, WSA, WSSE, WSU, q
from broker.edukoppeling.parsing import safe_xml_parser
from broker.edukoppeling.response import to_bytes
from broker.edukoppeling.trust_store import oin_of
from broker.edukoppeling.wss.constants import BASE64_BINARY, DS, X509V3
from broker.edukoppeling.wss.signer import Signer

ACTION_BASE = "urn:nl:vva:aanmelden:v1"
#: A fictional pupil number that passes the elfproef (fictional identities only, never a real one).
FICTITIOUS_BSN = "999990019"
#: A second fictional pupil, enrolled with an onderwijsovereenkomst by the issue 16 samples (kept apart
#: so the status of ``FICTITIOUS_BSN``'s registration stays what the other samples expect).
FICTITIOUS_BSN_2 = "999990020"
#: A fictional pupil that only ever appears in records the broker must reject: nothing of it is ever
#: stored, so the rejection samples get the same code on every run against the same broker.
FICTITIOUS_BSN_REJECTED = "999990032"
_BOM = b"\xef\xbb\xbf"
_TOO_LARGE = 11 * 1024 * 1024  # over the broker's 10 MiB limit (H92)
_PARSER = safe_xml_parser(remove_blank_text=False)
_SHA1 = {
    "SignatureMethod": "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    "DigestMethod": "http://www.w3.org/2000/09/xmldsig#sha1",
}


@dataclass(frozen=True)
class Sender:
    """Who the kit speaks as: the signing key and certificate (PEM), the OIN in wsa:From and the
    BRIN used in delivery samples (None when the party has none)."""

    key_pem: bytes
    certificate_pem: bytes
    from_oin: str
    brin: str | None

    @property
    def certificaat_oin(self) -> str:
        return certificaat_oin(x509.load_pem_x509_certificate(self.certificate_pem))


@dataclass(frozen=True)
class Bericht:
    """One rendered request: the bytes, its MessageID and (when signed) its SignatureValue."""

    data: bytes
    message_id: str
    action: str
    soapaction: str | None
    signature_value: str | None


def certificaat_oin(certificate: x509.Certificate) -> str:
    """The subject serialNumber (the OIN of a PKIoverheid certificate), or '' without a single one
    (read as the broker reads it: ``oin_of``)."""
    return oin_of(certificate) or ""


def _files(brin: str, today: str) -> dict[str, str]:
    """The CSV files of the upload samples (base64, as in the Body): one pupil of the sender's BRIN;
    the ``_procesfeiten``/``_examen`` ones with the optional columns of issue 16, the ``_ongeldig``
    ones with an outcome outside the allowed values (VVA126/VVA127)."""
    vo = f"bsn;brinVo;postcode;woongemeente;mutatie\n{FICTITIOUS_BSN};{brin};1011AB;0363;toevoegen\n"
    mbo = f"bsn;brinMbo;status;datum\n{FICTITIOUS_BSN};{brin};aangemeld;{today}\n"
    vo_header = "bsn;brinVo;postcode;woongemeente;mutatie;examenUitkomst;examenDatum\n"
    # wijzigen: the pupil of the other VO samples, delivered before (a repeat of toevoegen is VVA116)
    vo_examen = f"{vo_header}{FICTITIOUS_BSN};{brin};1011AB;0363;wijzigen;geslaagd;{today}\n"
    vo_invalid = f"{vo_header}{FICTITIOUS_BSN_REJECTED};{brin};1011AB;0363;toevoegen;cumLaude;{today}\n"
    mbo_header = "bsn;brinMbo;status;datum;intakeDatum;intakeUitkomst;onderwijsovereenkomstDatum\n"
    mbo_feiten = (
        f"{mbo_header}{FICTITIOUS_BSN};{brin};aangemeld;{today};{today};positiefAdvies;\n"
        f"{FICTITIOUS_BSN_2};{brin};ingeschreven;{today};{today};positiefAdvies;{today}\n"
    )
    mbo_invalid = f"{mbo_header}{FICTITIOUS_BSN_REJECTED};{brin};aangemeld;{today};{today};misschien;\n"
    files = {
        "bestand_vo": vo,
        "bestand_mbo": mbo,
        "bestand_vo_examen": vo_examen,
        "bestand_vo_examen_ongeldig": vo_invalid,
        "bestand_mbo_procesfeiten": mbo_feiten,
        "bestand_mbo_intake_ongeldig": mbo_invalid,
    }
    return {name: base64.b64encode(text.encode()).decode() for name, text in files.items()}


def render(
    case: Case,
    sjabloon: str,
    *,
    dienst: str,
    address: str,
    ontvanger_oin: str,
    sender: Sender,
    message_id: str | None = None,
    echo: str | None = None,
    now: datetime | None = None,
) -> Bericht:
    """The request of ``case`` for the service ``dienst`` at logical address ``address`` (wsa:To
    without ``?oin=``), addressed to ``ontvanger_oin``. ``message_id``/``echo`` are given for the
    second message of a repeat. Raises KeyError for a template variable nobody fills in, and
    ValueError when a delivery sample needs a BRIN and ``sender.brin`` is None."""
    now = now or datetime.now(UTC)
    bare = str(uuid.uuid4())
    waarden = {
        "dienst": dienst,
        "operatie": case.operatie,
        "action": f"{ACTION_BASE}/{dienst}/{case.operatie}",
        "adres": address,
        "ontvanger": ontvanger_oin,
        "van": sender.from_oin,
        "message_id": message_id or f"urn:uuid:{bare}",
        "uuid": bare,
        "bsn": FICTITIOUS_BSN,
        "bsn_2": FICTITIOUS_BSN_2,
        "bsn_afgewezen": FICTITIOUS_BSN_REJECTED,
        "vandaag": date.today().isoformat(),
        "gisteren": (date.today() - timedelta(days=1)).isoformat(),
        "morgen": (date.today() + timedelta(days=1)).isoformat(),
        "nu": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "echo": echo or f"conformance {case.id}",
        "extra_kop": "",
    }
    if sender.brin is not None:
        waarden["brin"] = sender.brin
        waarden.update(_files(sender.brin, waarden["vandaag"]))
    elif "${brin}" in sjabloon:
        raise ValueError(f"case {case.id} needs a BRIN: give --brin")
    for key, value in case.waarden.items():
        if key != "to" and not (key == "message_id" and message_id):
            waarden[key] = Template(value).substitute(waarden)
    waarden["to"] = Template(case.waarden.get("to", "${adres}?oin=${ontvanger}")).substitute(waarden)
    text = Template(sjabloon).substitute(waarden)
    soapaction = None if case.soapaction == "-" else Template(case.soapaction).substitute(waarden)
    data, signature_value = _bytes(case, text, sender, now)
    return Bericht(data, waarden["message_id"], waarden["action"], soapaction, signature_value)


def _bytes(case: Case, text: str, sender: Sender, now: datetime) -> tuple[bytes, str | None]:
    if case.codering == "utf-16":
        return text.encode("utf-16"), None
    if case.codering == "latin-1":
        return text.encode("latin-1"), None
    data = text.encode("utf-8")
    signature_value = None
    if case.ondertekenen:
        root = etree.fromstring(data, _PARSER)
        key, certificate = _key(case, sender)
        Signer(key, certificate).sign(root, now + timedelta(seconds=case.tijd_s))
        name, _, argument = (case.mutatie or "").partition(":")
        if name in TREE_MUTATIONS:
            TREE_MUTATIONS[name](root, argument, key)
        # After the mutation: some sign again, and the answer must confirm what was sent (S8).
        signature_value = "".join(root.find(f".//{q(DS, 'SignatureValue')}").text.split())
        data = to_bytes(root)
    if case.mutatie in BYTE_MUTATIONS:
        data = BYTE_MUTATIONS[case.mutatie](data)
    if case.codering == "utf-8-bom":
        data = _BOM + data
    return data, signature_value


def _key(case: Case, sender: Sender) -> tuple[bytes, bytes]:
    if case.sleutel == "zelf-ondertekend":
        return self_signed(sender.certificaat_oin)
    return sender.key_pem, sender.certificate_pem


def self_signed(oin: str) -> tuple[bytes, bytes]:
    """A fresh RSA-2048 key and a self-signed certificate carrying ``oin``: right in form, trusted
    by nobody (H44)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.COMMON_NAME, "conformance zelf-ondertekend (FICTIEF)"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, oin or "00000099000000000999"),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    return (
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()),
        certificate.public_bytes(Encoding.PEM),
    )


# --- mutations after signing (the H rules) ------------------------------------------------------


def _signature(root: etree._Element) -> etree._Element:
    return root.find(f"{q(SOAP11, 'Header')}/{q(WSSE, 'Security')}/{q(DS, 'Signature')}")


def _resign(root: etree._Element, key_pem: bytes) -> None:
    """Sign the (changed) SignedInfo again with python-xmlsec: new digests and SignatureValue."""
    signature = _signature(root)
    for value in signature.iter(q(DS, "DigestValue"), q(DS, "SignatureValue")):
        value.text = None
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatPem)
    for element in root.iter():
        if isinstance(element.tag, str) and element.get(q(WSU, "Id")) is not None:
            context.register_id(element, "Id", WSU)
    context.sign(signature)


def _body_changed(root: etree._Element, _: str, __: bytes) -> None:
    content = root.find(q(SOAP11, "Body"))[0]
    text = next(e for e in content.iter() if isinstance(e.tag, str) and (e.text or "").strip())
    text.text = text.text + " (gewijzigd)"


def _without_reference(root: etree._Element, part: str, key_pem: bytes) -> None:
    """Drop the Reference to ``part`` (Body, Timestamp or a wsa header name) and sign again (H12)."""
    element = {
        "Body": root.find(q(SOAP11, "Body")),
        "Timestamp": root.find(f".//{q(WSU, 'Timestamp')}"),
        "BinarySecurityToken": root.find(f".//{q(WSSE, 'BinarySecurityToken')}"),
    }.get(part)
    if element is None:
        element = root.find(f"{q(SOAP11, 'Header')}/{q(WSA, part)}")
    ident = element.get(q(WSU, "Id"))
    for reference in _signature(root).iter(q(DS, "Reference")):
        if reference.get("URI") == f"#{ident}":
            reference.getparent().remove(reference)
    _resign(root, key_pem)


def _sha1(root: etree._Element, _: str, key_pem: bytes) -> None:
    for element in _signature(root).iter(q(DS, "SignatureMethod"), q(DS, "DigestMethod")):
        element.set("Algorithm", _SHA1[etree.QName(element).localname])
    _resign(root, key_pem)


def _key_identifier(root: etree._Element, _: str, __: bytes) -> None:
    """KeyInfo by X509SubjectKeyIdentifier instead of a direct reference to the BST (H52)."""
    reference = _signature(root).find(f".//{q(WSSE, 'Reference')}")
    token_reference = reference.getparent()
    token_reference.remove(reference)
    bst = root.find(f".//{q(WSSE, 'BinarySecurityToken')}")
    certificate = x509.load_der_x509_certificate(base64.b64decode(bst.text))
    ski = x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest
    identifier = etree.SubElement(
        token_reference,
        q(WSSE, "KeyIdentifier"),
        ValueType=X509V3.replace("#X509v3", "#X509SubjectKeyIdentifier"),
        EncodingType=BASE64_BINARY,
    )
    identifier.text = base64.b64encode(ski).decode("ascii")


def _body_moved(root: etree._Element, _: str, __: bytes) -> None:
    """Signature wrapping (H1/H2): the signed Body into the Security header, a new Body in its place."""
    body = root.find(q(SOAP11, "Body"))
    root.find(f"{q(SOAP11, 'Header')}/{q(WSSE, 'Security')}").append(body)
    new = etree.SubElement(root, q(SOAP11, "Body"))
    for kind in body:
        copy = etree.fromstring(etree.tostring(kind))
        for element in copy.iter():
            if isinstance(element.tag, str) and (element.text or "").strip():
                element.text = "ondergeschoven"
        new.append(copy)


def _second_security(root: etree._Element, _: str, __: bytes) -> None:
    header = root.find(q(SOAP11, "Header"))
    second = etree.SubElement(header, q(WSSE, "Security"))
    etree.SubElement(second, q(WSU, "Timestamp"))


def _enveloped_transform(root: etree._Element, _: str, key_pem: bytes) -> None:
    """node-soap's default: an enveloped-signature transform before exc-c14n on every reference (H17)."""
    for transforms in _signature(root).iter(q(DS, "Transforms")):
        transforms.insert(0, etree.Element(q(DS, "Transform"), Algorithm=f"{DS}enveloped-signature"))
    _resign(root, key_pem)


def _inclusive_c14n(root: etree._Element, _: str, key_pem: bytes) -> None:
    """Inclusive C14N 1.0 for SignedInfo, a common default of older stacks (H35)."""
    method = _signature(root).find(f"{q(DS, 'SignedInfo')}/{q(DS, 'CanonicalizationMethod')}")
    method.set("Algorithm", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")
    _resign(root, key_pem)


def _base64_lines(root: etree._Element, _: str, key_pem: bytes) -> None:
    """BinarySecurityToken and SignatureValue wrapped at 64 characters, as many Java stacks write
    them (H38): the BST before signing (it is signed), the SignatureValue by xmlsec itself."""
    bst = root.find(f".//{q(WSSE, 'BinarySecurityToken')}")
    text = "".join(bst.text.split())
    bst.text = "\n" + "\n".join(text[i : i + 64] for i in range(0, len(text), 64)) + "\n"
    _resign(root, key_pem)


def _bst_after_signature(root: etree._Element, _: str, __: bytes) -> None:
    """The BinarySecurityToken after the Signature that refers to it (H54)."""
    root.find(f"{q(SOAP11, 'Header')}/{q(WSSE, 'Security')}").append(
        root.find(f".//{q(WSSE, 'BinarySecurityToken')}")
    )


def _security_mustunderstand(root: etree._Element, _: str, __: bytes) -> None:
    """mustUnderstand="1" on wsse:Security, as node-soap and WSS4J send it (S1, H106)."""
    root.find(f"{q(SOAP11, 'Header')}/{q(WSSE, 'Security')}").set(q(SOAP11, "mustUnderstand"), "1")


def _formatting_between_headers(root: etree._Element, _: str, __: bytes) -> None:
    """Line breaks and indentation between the header blocks, outside anything signed (H113)."""
    header = root.find(q(SOAP11, "Header"))
    header.text = "\n    "
    for block in header:
        block.tail = "\n    "


def _crlf(data: bytes) -> bytes:
    """CRLF line endings, also inside the signed Body (H121): XML reads them as LF."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _too_large(data: bytes) -> bytes:
    return data.replace(b"</vva:echo>", b"x" * _TOO_LARGE + b"</vva:echo>", 1)


TREE_MUTATIONS: dict[str, Callable[[etree._Element, str, bytes], None]] = {
    "body-gewijzigd": _body_changed,
    "zonder-referentie": _without_reference,
    "sha1": _sha1,
    "key-identifier": _key_identifier,
    "body-verplaatst": _body_moved,
    "tweede-security": _second_security,
    "enveloped-transform": _enveloped_transform,
    "inclusive-c14n": _inclusive_c14n,
    "base64-regels": _base64_lines,
    "bst-na-handtekening": _bst_after_signature,
    "security-mustunderstand": _security_mustunderstand,
    "opmaak-tussen-headers": _formatting_between_headers,
}
BYTE_MUTATIONS: dict[str, Callable[[bytes], bytes]] = {"te-groot": _too_large, "crlf": _crlf}
