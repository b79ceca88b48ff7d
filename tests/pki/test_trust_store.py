"""The trust store against every demo test certificate and the CRL rules (T9, T10, O6;
H34, H44–H49).

One demo PKI per module (RSA key generation is the slow part). Every refusal is checked for both purposes:
"ondertekening" (wire code Client.EK0031) and "tls" (Client.EK0030), with the audit class in ``reden``.
Certificates that the demo PKI does not make (an impostor CA, a production-like PKI, a PKIoverheid-style
leaf with CRL and OCSP pointers) are built here with ``cryptography`` directly.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from broker.edukoppeling.faults import EdukoppelingFault, WsSecurityFault
from broker.edukoppeling.trust_store import (
    CACHE_S,
    CRL_MISSING,
    CRL_STALE,
    MAX_INTERMEDIATES,
    TrustStore,
    oin_of,
)
from broker.pki.demo import TEST_VARIANTS, DemoPki, make_demo_pki, renew_crl

SCHOOL = "0000000700099XA00000"
REGIO = "00000099000000000042"
GEMEENTE = "00000099000000000363"
PARTIJEN = [
    (SCHOOL, "Scholengemeenschap Één (FICTIEF)"),
    (REGIO, "Regionaal systeem Amsterdam (FICTIEF)"),
    (GEMEENTE, "Gemeente Amsterdam (FICTIEF)"),
]
BOTH = ("ondertekening", "tls")
CODE = {"ondertekening": "Client.EK0031", "tls": "Client.EK0030"}


# ---------------------------------------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return make_demo_pki(tmp_path_factory.mktemp("pki"), PARTIJEN)


@pytest.fixture(scope="module")
def trust(pki: DemoPki) -> TrustStore:
    return TrustStore(pki.ca_files, pki.crl_files)


def now() -> datetime:
    return datetime.now(UTC)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def partij(pki: DemoPki, oin: str) -> x509.Certificate:
    return load(pki.partijen[oin].certificate)


def variant_cert(pki: DemoPki, variant: str) -> x509.Certificate:
    return load(pki.test[variant].certificate)


def refusal(
    trust: TrustStore,
    certificate: x509.Certificate,
    purpose: str,
    moment: datetime | None = None,
    extra_between: Iterable[x509.Certificate] = (),
) -> tuple[str, WsSecurityFault | str]:
    """The (wire code, audit class) of a refusal; fails the test when the certificate is accepted.

    The audit class of a refused certificate is its ``WsSecurityFault``; revocation status unknown
    (Server.DK0051) has none, and its reason starts with ``CRL_MISSING`` or ``CRL_STALE``."""
    with pytest.raises(EdukoppelingFault) as info:
        trust.check_all(certificate, purpose, moment or now(), list(extra_between))  # type: ignore[arg-type]
    error = info.value
    if error.wss is not None:
        assert error.reason == f"{error.wss.value} {error.text}"  # what the message log records
        return error.code, error.wss
    (klass,) = [
        k for k in (CRL_MISSING, CRL_STALE) if error.reason.startswith(f"{k} revocation status unknown: ")
    ]
    return error.code, klass


def issuing_ca(pki: DemoPki) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    sleutel = serialization.load_pem_private_key((pki.map / "ca" / "issuing.key.pem").read_bytes(), None)
    assert isinstance(sleutel, rsa.RSAPrivateKey)
    return load(pki.issuing), sleutel


def naam(cn: str, oin: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if oin:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, oin))
    return x509.Name(attributes)


def issue(
    subject: x509.Name,
    issuer: tuple[x509.Name, rsa.RSAPrivateKey] | None,
    *,
    ca: bool,
    extensions: Iterable[x509.ExtensionType] = (),
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A certificate valid from an hour ago for 30 days; ``issuer`` None = self-signed."""
    sleutel = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issuer_name, issuer_key = issuer or (subject, sleutel)
    ku = x509.KeyUsage(not ca, False, not ca, False, False, ca, ca, False, False)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(sleutel.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now() - timedelta(hours=1))
        .not_valid_after(now() + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(ku, critical=True)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(issuer_key, hashes.SHA256()), sleutel


def crl(
    ca: tuple[x509.Certificate, rsa.RSAPrivateKey], revoked: Iterable[x509.Certificate] = ()
) -> x509.CertificateRevocationList:
    """A CRL of ``ca`` issued a minute ago, valid one day, revoking ``revoked``."""
    certificate, sleutel = ca
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(certificate.subject)
        .last_update(now() - timedelta(minutes=1))
        .next_update(now() + timedelta(days=1))
    )
    for removed in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(removed.serial_number).revocation_date(now()).build()
        )
    return builder.sign(sleutel, hashes.SHA256())


def write(path: Path, *objects: x509.Certificate | x509.CertificateRevocationList) -> Path:
    path.write_bytes(b"".join(o.public_bytes(serialization.Encoding.PEM) for o in objects))
    return path


# ---------------------------------------------------------------------------------------------------------
# Accepted
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", BOTH)
@pytest.mark.parametrize("oin", [SCHOOL, REGIO, GEMEENTE])
def test_valid_party_certificate_returns_its_oin(
    pki: DemoPki, trust: TrustStore, oin: str, purpose: str
) -> None:
    assert trust.check_all(partij(pki, oin), purpose, now()) == oin  # type: ignore[arg-type]


@pytest.mark.parametrize("purpose", BOTH)
def test_broker_certificate_is_valid_for_signing_and_tls(pki: DemoPki, trust: TrustStore, purpose: str) -> None:
    assert trust.check_all(load(pki.broker.certificate), purpose, now()) == "00000099000000000001"  # type: ignore[arg-type]


def test_tls_chain_intermediate_from_the_peer_builds_the_path(pki: DemoPki) -> None:
    # Only the root is configured; the issuing CA comes with the peer's TLS chain (<oin>.chain.pem).
    only_root = TrustStore([pki.root], pki.crl_files)
    certificate = partij(pki, SCHOOL)
    assert refusal(only_root, certificate, "tls") == ("Client.EK0030", WsSecurityFault.FAILED_CHECK)
    chain = x509.load_pem_x509_certificates(pki.partijen[SCHOOL].chain.read_bytes())
    assert [c.subject for c in chain] == [certificate.subject, load(pki.issuing).subject]
    assert only_root.check_all(certificate, "tls", now(), extra_between=chain[1:]) == SCHOOL
    # A peer cannot make the broker chew on an endless chain.
    too_long = chain[1:] * (MAX_INTERMEDIATES + 1)
    assert refusal(only_root, certificate, "tls", extra_between=too_long) == (
        "Client.EK0030",
        WsSecurityFault.FAILED_CHECK,
    )


def test_pkioverheid_style_certificate_with_crl_and_ocsp_pointers_validates_offline(pki: DemoPki) -> None:
    # PKIoverheid leaves name a CRL distribution point and an OCSP responder; the broker never fetches
    # (no network in the request path) and decides on the configured CRLs.
    issuing, sleutel = issuing_ca(pki)
    cdp = x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                [x509.UniformResourceIdentifier("http://crl.demo.invalid/i.crl")], None, None, None
            )
        ]
    )
    aia = x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://ocsp.demo.invalid")
            )
        ]
    )
    certificate, _ = issue(
        naam("PKIo-stijl (FICTIEF)", "00000099000000000123"),
        (issuing.subject, sleutel),
        ca=False,
        extensions=[cdp, aia],
    )
    assert TrustStore(pki.ca_files, pki.crl_files).check_all(certificate, "ondertekening", now()) == (
        "00000099000000000123"
    )


def test_crls_in_der_form_are_read(pki: DemoPki, tmp_path: Path) -> None:
    # PKIoverheid publishes its CRLs in DER.
    der = []
    for pem in pki.crl_files:
        path = tmp_path / pem.name.replace(".pem", ".der")
        path.write_bytes(x509.load_pem_x509_crl(pem.read_bytes()).public_bytes(serialization.Encoding.DER))
        der.append(path)
    assert TrustStore(pki.ca_files, der).check_all(partij(pki, REGIO), "ondertekening", now()) == REGIO


# ---------------------------------------------------------------------------------------------------------
# Refused: one test per H rule of docs/rules.md
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", BOTH)
def test_h44_self_signed_certificate_is_untrusted(pki: DemoPki, trust: TrustStore, purpose: str) -> None:
    certificate = variant_cert(pki, "zelfondertekend")
    assert certificate.subject == certificate.issuer
    assert refusal(trust, certificate, purpose) == (CODE[purpose], WsSecurityFault.FAILED_CHECK)


@pytest.mark.parametrize("purpose", BOTH)
def test_h45_foreign_ca_is_untrusted_even_with_its_chain(pki: DemoPki, trust: TrustStore, purpose: str) -> None:
    certificate = variant_cert(pki, "vreemde-ca")
    foreign_ca = x509.load_pem_x509_certificates(pki.test["vreemde-ca"].chain.read_bytes())[1:]
    assert refusal(trust, certificate, purpose) == (CODE[purpose], WsSecurityFault.FAILED_CHECK)
    # The peer's own chain adds a path candidate, never a trust anchor.
    assert refusal(trust, certificate, purpose, extra_between=foreign_ca) == (
        CODE[purpose],
        WsSecurityFault.FAILED_CHECK,
    )


@pytest.mark.parametrize("purpose", BOTH)
def test_h45_foreign_ca_named_like_our_issuing_ca_is_untrusted(
    pki: DemoPki, trust: TrustStore, purpose: str
) -> None:
    # An impostor CA with our issuing CA's exact subject: only the key decides, not the name.
    impostor, impostor_key = issue(load(pki.issuing).subject, None, ca=True)
    certificate, _ = issue(
        naam("Impostor (FICTIEF)", "00000099000000000666"), (impostor.subject, impostor_key), ca=False
    )
    assert refusal(trust, certificate, purpose, extra_between=[impostor]) == (
        CODE[purpose],
        WsSecurityFault.FAILED_CHECK,
    )


@pytest.mark.parametrize("purpose", BOTH)
def test_h46_expired_certificate(pki: DemoPki, trust: TrustStore, purpose: str) -> None:
    certificate = variant_cert(pki, "verlopen")
    assert certificate.not_valid_after_utc < now()
    assert refusal(trust, certificate, purpose) == (CODE[purpose], WsSecurityFault.FAILED_AUTHENTICATION)


@pytest.mark.parametrize("purpose", BOTH)
def test_h46_not_yet_valid_certificate(pki: DemoPki, trust: TrustStore, purpose: str) -> None:
    certificate = partij(pki, SCHOOL)
    moment = certificate.not_valid_before_utc - timedelta(seconds=1)
    assert refusal(trust, certificate, purpose, moment=moment) == (
        CODE[purpose],
        WsSecurityFault.FAILED_AUTHENTICATION,
    )


@pytest.mark.parametrize("purpose", BOTH)
def test_h47_revoked_certificate(pki: DemoPki, trust: TrustStore, purpose: str) -> None:
    certificate = variant_cert(pki, "ingetrokken")
    issuing_crl = x509.load_pem_x509_crl(pki.issuing_crl.read_bytes())
    assert issuing_crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None
    assert refusal(trust, certificate, purpose) == (CODE[purpose], WsSecurityFault.FAILED_AUTHENTICATION)


@pytest.mark.parametrize("purpose", BOTH)
def test_h47_revoked_and_crl_past_next_update_fails_closed(pki: DemoPki, purpose: str) -> None:
    # O6: beyond nextUpdate + grace the revocation status is unknown: Server.DK0051, for both purposes.
    next_update = x509.load_pem_x509_crl(pki.issuing_crl.read_bytes()).next_update_utc
    assert next_update is not None
    certificate = partij(pki, SCHOOL)
    without_grace = TrustStore(pki.ca_files, pki.crl_files, crl_grace_s=0)
    moment = next_update + timedelta(seconds=1)
    assert refusal(without_grace, certificate, purpose, moment=moment) == ("Server.DK0051", "crl:Stale")
    assert (
        refusal(without_grace, variant_cert(pki, "ingetrokken"), purpose, moment=moment)[0] == "Server.DK0051"
    )

    hour_grace = TrustStore(pki.ca_files, pki.crl_files, crl_grace_s=3600)
    assert hour_grace.check_all(certificate, purpose, moment) == SCHOOL  # type: ignore[arg-type]
    # Within the grace a revoked certificate stays revoked.
    assert refusal(hour_grace, variant_cert(pki, "ingetrokken"), purpose, moment=moment) == (
        CODE[purpose],
        WsSecurityFault.FAILED_AUTHENTICATION,
    )
    past = next_update + timedelta(seconds=3601)
    assert refusal(hour_grace, certificate, purpose, moment=past) == ("Server.DK0051", "crl:Stale")


def test_h47_crl_already_expired_by_renew_crl(pki: DemoPki, tmp_path: Path) -> None:
    copy = tmp_path / "pki"
    shutil.copytree(pki.map, copy)
    root_crl, issuing_crl = renew_crl(copy, now=now() - timedelta(days=8))
    assert x509.load_pem_x509_crl(issuing_crl.read_bytes()).next_update_utc < now()  # type: ignore[operator]
    cas = [copy / "ca" / "root.pem", copy / "ca" / "issuing.pem"]
    certificate = load(copy / f"{REGIO}.cert.pem")

    assert refusal(TrustStore(cas, [root_crl, issuing_crl]), certificate, "ondertekening") == (
        "Server.DK0051",
        "crl:Stale",
    )
    two_days = TrustStore(cas, [root_crl, issuing_crl], crl_grace_s=2 * 86400)
    assert two_days.check_all(certificate, "ondertekening", now()) == REGIO


@pytest.mark.parametrize("purpose", BOTH)
def test_h47_no_crl_for_an_issuer_fails_closed(pki: DemoPki, purpose: str) -> None:
    certificate = partij(pki, SCHOOL)
    without_issuing_crl = TrustStore(pki.ca_files, [pki.root_crl])
    assert refusal(without_issuing_crl, certificate, purpose) == ("Server.DK0051", "crl:Missing")
    # The intermediate needs the root's CRL as well.
    without_root_crl = TrustStore(pki.ca_files, [pki.issuing_crl])
    assert refusal(without_root_crl, certificate, purpose) == ("Server.DK0051", "crl:Missing")


@pytest.mark.parametrize("purpose", BOTH)
@pytest.mark.parametrize("variant", ["zonder-oin", "ongeldig-oin"])
def test_h48_no_or_invalid_oin_is_ek0030_for_both_purposes(
    pki: DemoPki, trust: TrustStore, variant: str, purpose: str
) -> None:
    assert refusal(trust, variant_cert(pki, variant), purpose) == (
        "Client.EK0030",
        WsSecurityFault.INVALID_SECURITY_TOKEN,
    )


@pytest.mark.parametrize("purpose", BOTH)
def test_h49_no_digital_signature_key_usage(pki: DemoPki, trust: TrustStore, purpose: str) -> None:
    certificate = variant_cert(pki, "geen-digitalsignature")
    ku = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (ku.digital_signature, ku.key_encipherment) == (False, True)
    assert refusal(trust, certificate, purpose) == (CODE[purpose], WsSecurityFault.INVALID_SECURITY_TOKEN)


@pytest.mark.parametrize("purpose", BOTH)
def test_h34_rsa_1024_key(pki: DemoPki, trust: TrustStore, purpose: str) -> None:
    certificate = variant_cert(pki, "rsa1024")
    assert certificate.public_key().key_size == 1024  # type: ignore[union-attr]
    assert refusal(trust, certificate, purpose) == (CODE[purpose], WsSecurityFault.INVALID_SECURITY)


def test_every_test_variant_has_a_test_above() -> None:
    covered = {"zelfondertekend", "vreemde-ca", "verlopen", "ingetrokken", "zonder-oin", "ongeldig-oin"}
    covered |= {"geen-digitalsignature", "rsa1024"}
    assert covered == set(TEST_VARIANTS)


@pytest.mark.parametrize("purpose", BOTH)
def test_ca_certificate_offered_as_party_certificate(pki: DemoPki, trust: TrustStore, purpose: str) -> None:
    # Without this check the configured root would validate as a path of length one.
    for ca in (pki.root, pki.issuing):
        assert refusal(trust, load(ca), purpose) == (CODE[purpose], WsSecurityFault.INVALID_SECURITY_TOKEN)


def test_tls_needs_client_auth_when_an_eku_is_present(pki: DemoPki, trust: TrustStore) -> None:
    issuing, sleutel = issuing_ca(pki)
    only_server = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    certificate, _ = issue(
        naam("Alleen server (FICTIEF)", "00000099000000000124"),
        (issuing.subject, sleutel),
        ca=False,
        extensions=[only_server],
    )
    fresh = TrustStore(pki.ca_files, pki.crl_files)
    assert refusal(fresh, certificate, "tls") == ("Client.EK0030", WsSecurityFault.INVALID_SECURITY_TOKEN)
    # For signing the EKU is not a criterion (the brief: key usage only).
    assert fresh.check_all(certificate, "ondertekening", now()) == "00000099000000000124"


# ---------------------------------------------------------------------------------------------------------
# Production
# ---------------------------------------------------------------------------------------------------------


def test_production_refuses_a_demo_ca(pki: DemoPki) -> None:
    with pytest.raises(ValueError, match="demo CA"):
        TrustStore(pki.ca_files, pki.crl_files, production=True)


def test_production_refuses_test_oins_and_accepts_others(tmp_path: Path) -> None:
    root = issue(naam("Productie-achtige Root (pytest)"), None, ca=True)
    issuing = issue(naam("Productie-achtige CA (pytest)"), (root[0].subject, root[1]), ca=True)
    ca_file = write(tmp_path / "cas.pem", root[0], issuing[0])  # one PEM bundle holding both
    crl_file = write(tmp_path / "crls.pem", crl(root), crl(issuing))
    issuer = (issuing[0].subject, issuing[1])
    test_oin, _ = issue(naam("Gemeente (FICTIEF)", GEMEENTE), issuer, ca=False)
    school, _ = issue(naam("School (FICTIEF)", SCHOOL), issuer, ca=False)

    production = TrustStore([ca_file], [crl_file], production=True)
    for purpose in BOTH:
        assert refusal(production, test_oin, purpose) == (
            "Client.EK0030",
            WsSecurityFault.INVALID_SECURITY_TOKEN,
        )
        assert production.check_all(school, purpose, now()) == SCHOOL  # type: ignore[arg-type]
    assert TrustStore([ca_file], [crl_file]).check_all(test_oin, "tls", now()) == GEMEENTE


# ---------------------------------------------------------------------------------------------------------
# Cache and CRL reload
# ---------------------------------------------------------------------------------------------------------


def counting(trust: TrustStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the full path validations (the expensive part) that ``trust`` performs."""
    calls: list[int] = []
    real = trust._validate_path

    def count(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(trust, "_validate_path", count)
    return calls


def test_cache_reuses_a_positive_answer_for_cache_s_per_purpose(
    pki: DemoPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = TrustStore(pki.ca_files, pki.crl_files)
    calls = counting(fresh, monkeypatch)
    certificate, t0 = partij(pki, SCHOOL), now()

    assert fresh.check_all(certificate, "ondertekening", t0) == SCHOOL
    assert fresh.check_all(certificate, "ondertekening", t0 + timedelta(seconds=CACHE_S - 1)) == SCHOOL
    assert len(calls) == 1
    assert fresh.check_all(certificate, "tls", t0) == SCHOOL
    assert len(calls) == 2
    assert fresh.check_all(certificate, "ondertekening", t0 + timedelta(seconds=CACHE_S + 1)) == SCHOOL
    assert len(calls) == 3


def test_cache_never_outlives_the_crl_next_update(pki: DemoPki) -> None:
    fresh = TrustStore(pki.ca_files, pki.crl_files)
    next_update = x509.load_pem_x509_crl(pki.issuing_crl.read_bytes()).next_update_utc
    assert next_update is not None
    certificate = partij(pki, REGIO)
    assert fresh.check_all(certificate, "ondertekening", next_update - timedelta(seconds=10)) == REGIO
    assert refusal(fresh, certificate, "ondertekening", moment=next_update + timedelta(seconds=10)) == (
        "Server.DK0051",
        "crl:Stale",
    )


def test_crl_reload_clears_the_cache(pki: DemoPki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = TrustStore(pki.ca_files, pki.crl_files)
    calls = counting(fresh, monkeypatch)
    certificate = partij(pki, GEMEENTE)
    assert fresh.check_all(certificate, "tls", now()) == GEMEENTE
    assert fresh.check_all(certificate, "tls", now()) == GEMEENTE
    assert len(calls) == 1

    # The issuing CA revokes the gemeente's certificate; the fetcher stores the new CRL and reloads.
    new_crl = write(tmp_path / "issuing-nieuw.crl.pem", crl(issuing_ca(pki), [certificate]))
    fresh.reload_crls([pki.root_crl, new_crl])
    assert refusal(fresh, certificate, "tls") == ("Client.EK0030", WsSecurityFault.FAILED_AUTHENTICATION)
    assert len(calls) == 2


# ---------------------------------------------------------------------------------------------------------
# Small API points
# ---------------------------------------------------------------------------------------------------------


def test_oin_of_returns_the_raw_serial_number(pki: DemoPki) -> None:
    assert oin_of(partij(pki, SCHOOL)) == SCHOOL
    assert oin_of(variant_cert(pki, "ongeldig-oin")) == "0000009900000000004x"
    assert oin_of(variant_cert(pki, "zonder-oin")) is None


def test_unknown_purpose_and_naive_moment_are_programming_errors(pki: DemoPki, trust: TrustStore) -> None:
    certificate = partij(pki, SCHOOL)
    with pytest.raises(ValueError, match="doel"):
        trust.check_all(certificate, "encryptie", now())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time zone"):
        trust.check_all(certificate, "tls", datetime.now())


def test_trust_store_without_a_root_is_refused(pki: DemoPki) -> None:
    with pytest.raises(ValueError, match="root"):
        TrustStore([pki.issuing], pki.crl_files)


def test_h47_a_new_crl_applies_without_a_restart(tmp_path: Path) -> None:
    """The CRL fetcher replaces a file; the running trust store revokes from then on (O6)."""
    from broker.pki.demo import withdraw

    oin = "00000099000000000077"
    demo = make_demo_pki(tmp_path, [(oin, "LAS-leverancier (FICTIEF)")])
    trust = TrustStore(demo.ca_files, demo.crl_files, crl_watch_s=0)
    certificate = load(tmp_path / f"{oin}.cert.pem")
    assert trust.check_all(certificate, "ondertekening", datetime.now(UTC)) == oin  # cached now
    withdraw(tmp_path, tmp_path / f"{oin}.cert.pem")
    assert refusal(trust, certificate, "ondertekening", datetime.now(UTC))[0] == "Client.EK0031"
    assert refusal(trust, certificate, "tls", datetime.now(UTC))[0] == "Client.EK0030"


def test_a_broken_new_crl_keeps_the_old_one_in_force(tmp_path: Path) -> None:
    oin = "00000099000000000077"
    demo = make_demo_pki(tmp_path, [(oin, "LAS-leverancier (FICTIEF)")])
    trust = TrustStore(demo.ca_files, demo.crl_files, crl_watch_s=0)
    (tmp_path / "ca" / "issuing.crl.pem").write_bytes(
        b"-----BEGIN X509 CRL-----\nkapot\n-----END X509 CRL-----\n"
    )
    assert trust.check_all(load(tmp_path / f"{oin}.cert.pem"), "ondertekening", datetime.now(UTC)) == oin
