"""A demo PKI for test and development, made with ``cryptography`` only.

Shape of PKIoverheid Private Services, scaled down: a root CA, an issuing CA under it, and for the broker
and every party a certificate with the party's OIN in subject serialNumber (T9, T10;
Digikoppeling Beveiliging PKI001). Both CAs publish a CRL (PKI003/PKI004). Under ``test/`` are the
certificates the negative tests need, one defect each (H34, H44–H49).

Layout of ``map``::

    ca/root.pem  ca/issuing.pem  ca/root.crl.pem  ca/issuing.crl.pem     (trust store input)
    ca/root.key.pem  ca/issuing.key.pem                                  (CA keys, 0600)
    <oin>.key.pem  <oin>.cert.pem  <oin>.chain.pem                       (broker and parties)
    test/<variant>.key.pem  test/<variant>.cert.pem  test/<variant>.chain.pem

``*.cert.pem`` is the leaf alone (what a signer puts in its BinarySecurityToken); ``*.chain.pem`` is the
leaf plus its issuing CA (what a TLS peer sends). Keys are PKCS#8 without a password, mode 0600.

Everything here is FICTIONAL: every name carries "(FICTIEF)" and ``TrustStore(production=True)`` refuses
a CA with that marker, so a demo PKI cannot end up trusted in production.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from broker.config import TEST_BROKER_OIN
from broker.domain.identifiers import is_valid_oin

#: Marker in every demo name; production refuses a trust anchor or intermediate that carries it.
FICTITIOUS = "(FICTIEF)"
BROKER_NAME = f"VVA broker {FICTITIOUS}"
ROOT_NAME = f"VVA Demo Root CA {FICTITIOUS}"
ISSUING_NAME = f"VVA Demo Issuing CA {FICTITIOUS}"
FOREIGN_CA_NAME = f"VVA Vreemde CA {FICTITIOUS}"
CA_ORGANISATION = f"VVA Demo PKI {FICTITIOUS}"

#: A CRL is valid for a week, like PKIoverheid's CA CRLs (nextUpdate = thisUpdate + 7 days).
CRL_VALIDITY = timedelta(days=7)
ROOT_VALIDITY = timedelta(days=10 * 365)
ISSUING_VALIDITY = timedelta(days=5 * 365)
LEAF_VALIDITY = timedelta(days=2 * 365)
#: Start validity a little before "now", so a partner whose clock lags a few minutes can use a new leaf.
BACKDATING = timedelta(minutes=5)

#: The negative-test certificates under test/ and the OIN in each (None: no serialNumber at all).
TEST_VARIANTS: dict[str, str | None] = {
    "zonder-oin": None,
    "ongeldig-oin": "0000009900000000004x",  # lower-case x: fails [0-9A-Z]{20} (docs/rules.md, OIN syntax)
    "verlopen": "00000099000000000901",
    "ingetrokken": "00000099000000000902",
    "zelfondertekend": "00000099000000000903",
    "geen-digitalsignature": "00000099000000000904",
    "rsa1024": "00000099000000000905",
    "vreemde-ca": "00000099000000000906",
}


@dataclass(frozen=True)
class DemoCertificate:
    """The files of one demo leaf: ``key`` (PKCS#8 PEM, 0600), ``certificate`` (leaf PEM) and
    ``chain`` (leaf + issuing CA PEM, for TLS)."""

    key: Path
    certificate: Path
    chain: Path


@dataclass(frozen=True)
class DemoPki:
    """Paths of a demo PKI made by ``make_demo_pki``.

    ``partijen`` and ``test`` map an OIN resp. a variant name (``TEST_VARIANTS``) to its files;
    ``written`` lists the files written by this run (CRLs are always re-issued).
    """

    map: Path
    root: Path
    issuing: Path
    root_crl: Path
    issuing_crl: Path
    broker: DemoCertificate
    partijen: dict[str, DemoCertificate]
    test: dict[str, DemoCertificate]
    written: list[Path] = field(default_factory=list)

    @property
    def ca_files(self) -> list[Path]:
        """The trust store's CA files: the root (anchor) and the issuing CA (intermediate)."""
        return [self.root, self.issuing]

    @property
    def crl_files(self) -> list[Path]:
        """The trust store's CRL files: one per CA."""
        return [self.root_crl, self.issuing_crl]


@dataclass(frozen=True)
class _Ca:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey


@dataclass(frozen=True)
class _Leaf:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # what follows the leaf in *.chain.pem


# ---------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------


def make_demo_pki(map: Path, partijen: list[tuple[str, str]], now: datetime | None = None) -> DemoPki:
    """Make (or complete) the demo PKI in ``map`` and return its paths.

    Input: target folder; ``partijen`` as (OIN, name) pairs (the broker, ``TEST_BROKER_OIN``, is always
    added); ``now`` = the issuance moment (default: now, UTC). Output: ``DemoPki``.
    Idempotent: when ``map/ca/root.pem`` exists the CAs are reused (same keys, same root fingerprint) and
    only missing leaves are made; the CRLs are always re-issued (nextUpdate = ``now`` + 7 days).
    Raises ``ValueError`` for a party OIN that fails ``is_valid_oin`` (the OIN becomes a file name and a
    certificate serialNumber, docs/rules.md, OIN syntax), ``FileNotFoundError`` when a CA exists without its key.
    """
    now = _utc(now)
    for oin, _name in partijen:
        if not is_valid_oin(oin):
            raise ValueError(f"not a valid OIN for a demo certificate: {oin!r}")
    root, issuing, written = _load_or_make_cas(map, now)

    broker = _paths(map, TEST_BROKER_OIN)
    written += _ensure(broker, lambda: _broker_leaf_of(issuing, now))
    partij_paths: dict[str, DemoCertificate] = {}
    for oin, name in partijen:
        if oin == TEST_BROKER_OIN:
            continue
        partij_paths[oin] = _paths(map, oin)
        written += _ensure(partij_paths[oin], _partij_maker(issuing, oin, name, now))
    test_paths: dict[str, DemoCertificate] = {}
    for variant, maker in _test_makers(issuing, now).items():
        test_paths[variant] = _paths(map / "test", variant)
        written += _ensure(test_paths[variant], maker)

    written += list(_write_crls(map, root, issuing, now, CRL_VALIDITY))
    return DemoPki(
        map=map,
        root=map / "ca" / "root.pem",
        issuing=map / "ca" / "issuing.pem",
        root_crl=map / "ca" / "root.crl.pem",
        issuing_crl=map / "ca" / "issuing.crl.pem",
        broker=broker,
        partijen=partij_paths,
        test=test_paths,
        written=written,
    )


def renew_crl(
    folder: Path, now: datetime | None = None, validity: timedelta = CRL_VALIDITY
) -> tuple[Path, Path]:
    """Re-issue both CRLs of the demo PKI in ``folder`` and return (root CRL, issuing CRL) paths.

    Input: the folder of an existing demo PKI; ``now`` = thisUpdate (default now, UTC); nextUpdate =
    ``now`` + ``validity``. A ``now`` more than ``validity`` in the past gives a CRL that is already
    expired: the fail-closed test of O6 / H47. The issuing CA's CRL lists
    ``test/ingetrokken`` when it exists. Raises ``FileNotFoundError`` when the CAs or their keys are missing.
    """
    now = _utc(now)
    root = _load_ca(folder / "ca", "root")
    issuing = _load_ca(folder / "ca", "issuing")
    return _write_crls(folder, root, issuing, now, validity)


def withdraw(folder: Path, certificate: Path, now: datetime | None = None) -> Path:
    """Revoke the leaf certificate in file ``certificate`` (PEM) at the demo issuing CA in ``folder``:
    it is added to ``ca/ingetrokken.pem`` and the CRLs are re-issued. Returns the issuing CRL's path.

    A running broker picks the new CRL up within seconds (``TrustStore`` watches its CRL files).
    """
    list_ = folder / "ca" / "ingetrokken.pem"
    existing = list_.read_bytes() if list_.exists() else b""
    _write(list_, existing + _pem(x509.load_pem_x509_certificate(certificate.read_bytes())))
    return renew_crl(folder, now)[1]


# ---------------------------------------------------------------------------------------------------------
# CAs and CRLs
# ---------------------------------------------------------------------------------------------------------


def _load_or_make_cas(folder: Path, now: datetime) -> tuple[_Ca, _Ca, list[Path]]:
    ca_dir = folder / "ca"
    if (ca_dir / "root.pem").exists():
        root = _load_ca(ca_dir, "root")
        if (ca_dir / "issuing.pem").exists():
            return root, _load_ca(ca_dir, "issuing"), []
        issuing = _make_ca(ISSUING_NAME, 2048, ISSUING_VALIDITY, now, issuer=root)
        return root, issuing, _save_ca(ca_dir, "issuing", issuing)
    root = _make_ca(ROOT_NAME, 3072, ROOT_VALIDITY, now, issuer=None)
    # A new root always gets a new issuing CA: an old issuing.pem would hang under a root that is gone.
    issuing = _make_ca(ISSUING_NAME, 2048, ISSUING_VALIDITY, now, issuer=root)
    return root, issuing, _save_ca(ca_dir, "root", root) + _save_ca(ca_dir, "issuing", issuing)


def _make_ca(name: str, bits: int, validity: timedelta, now: datetime, issuer: _Ca | None) -> _Ca:
    """A CA certificate; ``issuer`` None makes a self-signed root, else an intermediate (pathLen 0)."""
    key = _new_key(bits)
    subject = _name(name, CA_ORGANISATION)
    builder = (
        _base(subject, key, issuer, now - BACKDATING, now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None if issuer is None else 0), True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
    )
    return _Ca(builder.sign(issuer.key if issuer else key, hashes.SHA256()), key)


def _load_ca(ca_dir: Path, name: str) -> _Ca:
    key_path = ca_dir / f"{name}.key.pem"
    if not key_path.exists():
        raise FileNotFoundError(
            f"{key_path} is missing: the demo CA cannot issue; remove {ca_dir} to start a new demo PKI"
        )
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return _Ca(x509.load_pem_x509_certificate((ca_dir / f"{name}.pem").read_bytes()), key)


def _save_ca(ca_dir: Path, name: str, ca: _Ca) -> list[Path]:
    _write(ca_dir / f"{name}.key.pem", _key_pem(ca.key), secret=True)
    _write(ca_dir / f"{name}.pem", _pem(ca.certificate))
    return [ca_dir / f"{name}.pem", ca_dir / f"{name}.key.pem"]


def _write_crls(folder: Path, root: _Ca, issuing: _Ca, now: datetime, validity: timedelta) -> tuple[Path, Path]:
    root_crl, issuing_crl = folder / "ca" / "root.crl.pem", folder / "ca" / "issuing.crl.pem"
    # The root has revoked nothing; the issuing CA has revoked test/ingetrokken (H47).
    _write(root_crl, _crl(root, [], now, validity, _next_crl_number(root_crl)))
    revoked = _revoked_certificates(folder / "test" / "ingetrokken.cert.pem") + _revoked_certificates(
        folder / "ca" / "ingetrokken.pem"
    )
    _write(issuing_crl, _crl(issuing, revoked, now, validity, _next_crl_number(issuing_crl)))
    return root_crl, issuing_crl


def _crl(
    ca: _Ca, revoked: list[x509.Certificate], now: datetime, validity: timedelta, crl_number: int
) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(now)
        .next_update(now + validity)
        .add_extension(x509.CRLNumber(crl_number), critical=False)
        .add_extension(_aki(ca.key), critical=False)
    )
    for certificate in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(certificate.serial_number)
            # Revoked the moment it was issued: the demo never trusted it for a second.
            .revocation_date(certificate.not_valid_before_utc)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _revoked_certificates(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes()) if path.exists() else []


def _next_crl_number(path: Path) -> int:
    """RFC 5280 §5.2.3: the CRL number only goes up, so continue from the CRL being replaced."""
    if not path.exists():
        return 1
    previous = x509.load_pem_x509_crl(path.read_bytes())
    return previous.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number + 1


# ---------------------------------------------------------------------------------------------------------
# Leaves
# ---------------------------------------------------------------------------------------------------------


def _paths(folder: Path, name: str) -> DemoCertificate:
    return DemoCertificate(folder / f"{name}.key.pem", folder / f"{name}.cert.pem", folder / f"{name}.chain.pem")


def _ensure(paths: DemoCertificate, maker: Callable[[], _Leaf]) -> list[Path]:
    """Make the leaf unless key and certificate both exist (idempotence); return the files written."""
    if paths.key.exists() and paths.certificate.exists():
        return []
    leaf = maker()
    _write(paths.key, _key_pem(leaf.key), secret=True)
    _write(paths.certificate, _pem(leaf.certificate))
    _write(paths.chain, b"".join(_pem(c) for c in (leaf.certificate, *leaf.chain)))
    return [paths.key, paths.certificate, paths.chain]


def _broker_leaf_of(issuing: _Ca, now: datetime) -> _Leaf:
    # The broker's certificate doubles as its TLS server certificate in the demo, hence serverAuth and
    # the SAN for localhost (a TLS client checks the SAN, never the CN).
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    eku = (ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH)
    return _make_leaf(issuing, TEST_BROKER_OIN, BROKER_NAME, now, eku=eku, san=san)


def _partij_maker(issuing: _Ca, oin: str, name: str, now: datetime) -> Callable[[], _Leaf]:
    # A function rather than a lambda in the loop: binds this oin and naam, not the loop variables.
    return lambda: _make_leaf(issuing, oin, name, now)


def _test_makers(issuing: _Ca, now: datetime) -> dict[str, Callable[[], _Leaf]]:
    """One maker per ``TEST_VARIANTS`` entry; each certificate has exactly one defect."""

    def leaf(variant: str, issuer: _Ca | None = issuing, **options: Any) -> Callable[[], _Leaf]:
        return lambda: _make_leaf(issuer, TEST_VARIANTS[variant], _test_name(variant), now, **options)

    return {
        "zonder-oin": leaf("zonder-oin"),
        "ongeldig-oin": leaf("ongeldig-oin"),
        "verlopen": leaf("verlopen", not_before=now - LEAF_VALIDITY, not_after=now - timedelta(days=1)),
        "ingetrokken": leaf("ingetrokken"),
        "zelfondertekend": leaf("zelfondertekend", issuer=None),
        "geen-digitalsignature": leaf("geen-digitalsignature", ku=_key_usage(key_encipherment=True)),
        "rsa1024": leaf("rsa1024", bits=1024),
        "vreemde-ca": lambda: _foreign_ca_leaf(now),
    }


def _test_name(variant: str) -> str:
    return f"Test {variant} {FICTITIOUS}"


def _foreign_ca_leaf(now: datetime) -> _Leaf:
    """A well-formed leaf from a CA the trust store does not know (H45); the chain file carries that CA."""
    foreign = _make_ca(FOREIGN_CA_NAME, 2048, ISSUING_VALIDITY, now, issuer=None)
    leaf = _make_leaf(foreign, TEST_VARIANTS["vreemde-ca"], _test_name("vreemde-ca"), now)
    return _Leaf(leaf.key, leaf.certificate, (foreign.certificate,))


def _make_leaf(
    issuer: _Ca | None,
    oin: str | None,
    name: str,
    now: datetime,
    *,
    bits: int = 2048,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    ku: x509.KeyUsage | None = None,
    eku: Iterable[x509.ObjectIdentifier] = (ExtendedKeyUsageOID.CLIENT_AUTH,),
    san: x509.SubjectAlternativeName | None = None,
) -> _Leaf:
    """A party certificate as PKIoverheid issues it: OIN in serialNumber (PKI001), CN = O = the name,
    KeyUsage digitalSignature + keyEncipherment (critical), EKU clientAuth. ``issuer`` None = self-signed."""
    key = _new_key(bits)
    not_before = not_before or now - BACKDATING
    not_after = not_after or now + LEAF_VALIDITY
    builder = (
        _base(_name(name, name, oin), key, issuer, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(ku or _key_usage(digital_signature=True, key_encipherment=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    )
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    certificate = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return _Leaf(key, certificate, (issuer.certificate,) if issuer else ())


# ---------------------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------------------


def _base(
    subject: x509.Name, key: rsa.RSAPrivateKey, issuer: _Ca | None, not_before: datetime, not_after: datetime
) -> x509.CertificateBuilder:
    """Subject, issuer, validity, serial and key identifiers; ``issuer`` None = self-signed."""
    issuer_key = issuer.key if issuer else key
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_aki(issuer_key), critical=False)
    )


def _name(cn: str, organisation: str, oin: str | None = None) -> x509.Name:
    """C=NL, O, serialNumber (the full 20-character OIN, PKI001) when given, CN."""
    # RFC 5280 upper bound ub-common-name / ub-organization-name = 64; the demo name is only a label.
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
    ]
    if oin is not None:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, oin))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn[:64]))
    return x509.Name(attributes)


def _key_usage(
    *, digital_signature: bool = False, key_encipherment: bool = False, cert_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _aki(issuer_key: rsa.RSAPrivateKey) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key())


def _new_key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes, secret: bool = False) -> None:
    """Write ``data`` atomically (temp file + rename); a key is 0600 from its first byte on disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file with mode 0600, so a key is never readable by others, not even briefly.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        if not secret:
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("nu must carry a time zone (a naive datetime is ambiguous)")
    return now.astimezone(UTC)
