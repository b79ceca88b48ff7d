"""The demo PKI (broker/pki/demo.py) and ``vva pki`` (broker/pki/cli.py): files, certificate profiles,
CRLs, idempotence. One PKI per module; tests that change files work on a copy.
"""

from __future__ import annotations

import ipaddress
import shutil
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from broker.pki.cli import demo_partijen, pki
from broker.pki.demo import TEST_VARIANTS, DemoPki, make_demo_pki, renew_crl

BROKER = "00000099000000000001"
SCHOOL = "0000000700099XA00000"
SCHOOL_NAME = "Scholengemeenschap Één (FICTIEF)"
GEMEENTE = "00000099000000000363"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return make_demo_pki(tmp_path_factory.mktemp("demo"), [(SCHOOL, SCHOOL_NAME)], now=NOW)


@pytest.fixture
def copy(demo: DemoPki, tmp_path: Path) -> Path:
    target = tmp_path / "pki"
    shutil.copytree(demo.map, target)
    return target


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def waarde(naam: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [a.value for a in naam.get_attributes_for_oid(oid)]  # type: ignore[misc]


def sha256_fingerprint(path: Path) -> bytes:
    return load(path).fingerprint(hashes.SHA256())


# ---------------------------------------------------------------------------------------------------------
# CAs
# ---------------------------------------------------------------------------------------------------------


def test_root_and_issuing_ca(demo: DemoPki) -> None:
    root, issuing = load(demo.root), load(demo.issuing)
    assert waarde(root.subject, NameOID.COMMON_NAME) == ["VVA Demo Root CA (FICTIEF)"]
    assert waarde(issuing.subject, NameOID.COMMON_NAME) == ["VVA Demo Issuing CA (FICTIEF)"]
    assert root.issuer == root.subject and issuing.issuer == root.subject
    root.verify_directly_issued_by(root)
    issuing.verify_directly_issued_by(root)
    assert (root.public_key().key_size, issuing.public_key().key_size) == (3072, 2048)  # type: ignore[union-attr]
    assert root.not_valid_after_utc - NOW == timedelta(days=3650)
    for ca in (root, issuing):
        assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
        assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign is True


def test_ca_keys_are_private(demo: DemoPki) -> None:
    for naam in ("root", "issuing"):
        assert stat.S_IMODE((demo.map / "ca" / f"{naam}.key.pem").stat().st_mode) == 0o600


# ---------------------------------------------------------------------------------------------------------
# Leaves
# ---------------------------------------------------------------------------------------------------------


def test_broker_certificate_profile(demo: DemoPki) -> None:
    cert = load(demo.broker.certificate)
    assert waarde(cert.subject, NameOID.SERIAL_NUMBER) == [BROKER]
    assert waarde(cert.subject, NameOID.COMMON_NAME) == waarde(cert.subject, NameOID.ORGANIZATION_NAME)
    assert waarde(cert.subject, NameOID.COUNTRY_NAME) == ["NL"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH}
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]


def test_party_certificate_profile(demo: DemoPki) -> None:
    files = demo.partijen[SCHOOL]
    cert = load(files.certificate)
    assert waarde(cert.subject, NameOID.SERIAL_NUMBER) == [SCHOOL]  # all 20 characters (T10)
    assert waarde(cert.subject, NameOID.COMMON_NAME) == [SCHOOL_NAME]
    assert waarde(cert.subject, NameOID.ORGANIZATION_NAME) == [SCHOOL_NAME]
    assert cert.issuer == load(demo.issuing).subject
    assert cert.public_key().key_size == 2048  # type: ignore[union-attr]
    assert cert.not_valid_after_utc - NOW == timedelta(days=730)
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.key_encipherment
    assert not ku.value.content_commitment and not ku.value.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_cert_is_the_leaf_alone_and_chain_adds_the_issuing_ca(demo: DemoPki) -> None:
    files = demo.partijen[SCHOOL]
    assert len(x509.load_pem_x509_certificates(files.certificate.read_bytes())) == 1
    chain = x509.load_pem_x509_certificates(files.chain.read_bytes())
    assert chain == [load(files.certificate), load(demo.issuing)]


def test_party_key_is_unencrypted_pkcs8_0600_and_matches_the_certificate(demo: DemoPki) -> None:
    files = demo.partijen[SCHOOL]
    pem = files.key.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8, not "BEGIN RSA PRIVATE KEY"
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    sleutel = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(sleutel, rsa.RSAPrivateKey)
    assert sleutel.public_key() == load(files.certificate).public_key()


def test_test_certificates_each_have_their_one_defect(demo: DemoPki) -> None:
    assert set(demo.test) == set(TEST_VARIANTS)
    assert all(p.certificate.parent == demo.map / "test" for p in demo.test.values())
    cert = {variant: load(files.certificate) for variant, files in demo.test.items()}

    assert waarde(cert["zonder-oin"].subject, NameOID.SERIAL_NUMBER) == []
    assert waarde(cert["ongeldig-oin"].subject, NameOID.SERIAL_NUMBER) == ["0000009900000000004x"]
    assert cert["verlopen"].not_valid_after_utc < NOW
    assert cert["zelfondertekend"].issuer == cert["zelfondertekend"].subject
    ku = cert["geen-digitalsignature"].extensions.get_extension_for_class(x509.KeyUsage).value
    assert (ku.digital_signature, ku.key_encipherment) == (False, True)
    assert cert["rsa1024"].public_key().key_size == 1024  # type: ignore[union-attr]
    assert waarde(cert["vreemde-ca"].issuer, NameOID.COMMON_NAME) == ["VVA Vreemde CA (FICTIEF)"]
    # Apart from the defect, a valid OIN: the test then proves the defect, not a missing OIN.
    assert waarde(cert["ingetrokken"].subject, NameOID.SERIAL_NUMBER) == ["00000099000000000902"]


# ---------------------------------------------------------------------------------------------------------
# CRLs
# ---------------------------------------------------------------------------------------------------------


def test_crls_are_signed_valid_seven_days_and_list_only_the_revoked_certificate(demo: DemoPki) -> None:
    root_crl = x509.load_pem_x509_crl(demo.root_crl.read_bytes())
    issuing_crl = x509.load_pem_x509_crl(demo.issuing_crl.read_bytes())
    assert root_crl.is_signature_valid(load(demo.root).public_key())  # type: ignore[arg-type]
    assert issuing_crl.is_signature_valid(load(demo.issuing).public_key())  # type: ignore[arg-type]
    for crl in (root_crl, issuing_crl):
        assert (crl.last_update_utc, crl.next_update_utc) == (NOW, NOW + timedelta(days=7))
    assert len(root_crl) == 0
    revoked = load(demo.test["ingetrokken"].certificate)
    assert [r.serial_number for r in issuing_crl] == [revoked.serial_number]


def test_renew_crl_with_a_past_moment_makes_an_expired_crl(copy: Path) -> None:
    earlier = NOW - timedelta(days=8)
    root_crl, issuing_crl = renew_crl(copy, now=earlier)
    for path in (root_crl, issuing_crl):
        crl = x509.load_pem_x509_crl(path.read_bytes())
        assert crl.next_update_utc == NOW - timedelta(days=1)
    # The CRL number keeps going up (RFC 5280 §5.2.3), even for a back-dated CRL.
    number = x509.load_pem_x509_crl(issuing_crl.read_bytes()).extensions.get_extension_for_class(
        x509.CRLNumber
    )
    assert number.value.crl_number == 2


# ---------------------------------------------------------------------------------------------------------
# Idempotence
# ---------------------------------------------------------------------------------------------------------


def test_second_run_keeps_the_cas_and_certificates_and_adds_only_what_is_missing(copy: Path) -> None:
    root_before = sha256_fingerprint(copy / "ca" / "root.pem")
    school_before = (copy / f"{SCHOOL}.cert.pem").read_bytes()

    later = NOW + timedelta(days=3)
    second = make_demo_pki(
        copy, [(SCHOOL, SCHOOL_NAME), (GEMEENTE, "Gemeente Amsterdam (FICTIEF)")], now=later
    )

    assert sha256_fingerprint(second.root) == root_before
    assert (copy / f"{SCHOOL}.cert.pem").read_bytes() == school_before
    assert sorted(p.name for p in second.written) == sorted(
        [
            f"{GEMEENTE}.key.pem",
            f"{GEMEENTE}.cert.pem",
            f"{GEMEENTE}.chain.pem",
            "root.crl.pem",
            "issuing.crl.pem",
        ]
    )
    assert load(second.partijen[GEMEENTE].certificate).issuer == load(second.issuing).subject
    assert x509.load_pem_x509_crl(second.issuing_crl.read_bytes()).next_update_utc == later + timedelta(
        days=7
    )


def test_invalid_party_oin_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="OIN"):
        make_demo_pki(tmp_path, [("../../etc/passwd", "x")])
    assert not (tmp_path / "ca").exists()


def test_ca_without_its_key_cannot_issue(copy: Path) -> None:
    (copy / "ca" / "issuing.key.pem").unlink()
    with pytest.raises(FileNotFoundError, match="issuing.key.pem"):
        make_demo_pki(copy, [(GEMEENTE, "Gemeente Amsterdam (FICTIEF)")])


# ---------------------------------------------------------------------------------------------------------
# vva pki
# ---------------------------------------------------------------------------------------------------------


def test_demo_partijen_come_from_the_registry_file() -> None:
    partijen = dict(demo_partijen())
    assert partijen[SCHOOL] == SCHOOL_NAME
    assert partijen["00000099000000000042"] == "Regionaal systeem Amsterdam (FICTIEF)"
    assert len(partijen) == 9


def test_cli_demo_makes_a_certificate_per_demo_party_and_prints_the_settings(copy: Path) -> None:
    # On a copy of the module's PKI: the run reuses its CA, so it is fast and proves idempotence too.
    result = CliRunner().invoke(pki, ["demo", "--out", str(copy)])
    assert result.exit_code == 0, result.output
    for oin, _name in demo_partijen():
        assert (copy / f"{oin}.cert.pem").exists()
    assert f"wrote {copy / f'{GEMEENTE}.cert.pem'}" in result.output
    assert f"wrote {copy / f'{SCHOOL}.cert.pem'}" not in result.output  # already there
    assert f'trust_ca = ["{copy}/ca/root.pem", "{copy}/ca/issuing.pem"]' in result.output
    assert f'trust_crl = ["{copy}/ca/root.crl.pem", "{copy}/ca/issuing.crl.pem"]' in result.output
    assert f'signing_key = "{copy}/{BROKER}.key.pem"' in result.output
    assert f'signing_certificate = "{copy}/{BROKER}.cert.pem"' in result.output


def test_cli_demo_is_refused_in_production(tmp_path: Path) -> None:
    production = SimpleNamespace(settings=SimpleNamespace(environment="production"))
    result = CliRunner().invoke(pki, ["demo", "--out", str(tmp_path / "pki")], obj=production)
    assert result.exit_code == 2
    assert "test only" in result.output
    assert not (tmp_path / "pki").exists()


def test_cli_show_prints_the_oin_and_key_facts(demo: DemoPki) -> None:
    result = CliRunner().invoke(pki, ["show", str(demo.partijen[SCHOOL].chain)])
    assert result.exit_code == 0, result.output
    fields = dict(line.split(":", 1) for line in result.output.splitlines())
    assert fields["OIN"].strip() == SCHOOL
    assert fields["issuer"].strip() == "CN=VVA Demo Issuing CA (FICTIEF),O=VVA Demo PKI (FICTIEF),C=NL"
    assert fields["key"].strip() == "RSA 2048 bits"
    assert fields["key usage"].strip() == "digitalSignature, keyEncipherment"
    assert fields["ext. key usage"].strip() == "clientAuth"
    assert fields["valid"].strip().startswith("2026-03-02 08:55:00Z to 2028-03-01 09:00:00Z")


@pytest.mark.parametrize("variant", ["zonder-oin", "ongeldig-oin"])
def test_cli_show_exits_1_without_a_valid_oin(demo: DemoPki, variant: str) -> None:
    result = CliRunner().invoke(pki, ["show", str(demo.test[variant].certificate)])
    assert result.exit_code == 1
    assert "no valid OIN" in result.output


def test_cli_show_exits_2_for_a_file_that_is_not_a_certificate(demo: DemoPki) -> None:
    result = CliRunner().invoke(pki, ["show", str(demo.issuing_crl)])
    assert result.exit_code == 2
    assert "not an X.509 certificate" in result.output
