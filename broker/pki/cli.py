"""``vva pki``: make the demo PKI (test only) and show what a certificate says.

``vva pki demo --out DIR`` makes or completes the FICTIONAL demo PKI for the broker and the demo parties
(broker/registry/demo-partijen.toml) and prints the settings that point the broker at it.
``vva pki show CERT`` prints what the trust store looks at; exit status 1 when the certificate carries no
valid OIN (T10), 2 when the file is not a certificate.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from broker.domain.identifiers import is_test_oin, is_valid_oin
from broker.edukoppeling.keys import MIN_RSA_BITS, is_ec, rsa_key
from broker.edukoppeling.trust_store import oin_of
from broker.pki.demo import DemoPki, make_demo_pki

DEMO_PARTIJEN = "demo-partijen.toml"
#: RFC 4514 has no short name for serialNumber (the OIN); print it by name rather than as 2.5.4.5.
_NAMES = {NameOID.SERIAL_NUMBER: "serialNumber"}

_KEY_USAGE_NAMES = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)

_EKU_NAMES = {
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
}


@click.group()
def pki() -> None:
    """Certificates: the demo PKI (test only) and a certificate viewer."""


@pki.command("demo")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the demo PKI (made when missing; an existing demo PKI there is completed).",
)
def demo(out: Path) -> None:
    """Make the FICTIONAL demo PKI: CAs, CRLs, a certificate for the broker and every demo party.

    Idempotent: an existing CA in DIR is kept, missing certificates are added, the CRLs are re-issued
    (valid 7 days: run again to refresh them). Refused with environment = production.
    """
    _refuse_in_production()
    resultaat = make_demo_pki(out, demo_partijen())
    for path in resultaat.written:
        click.echo(f"wrote {path}")
    counts = f"broker, {len(resultaat.partijen)} parties, {len(resultaat.test)} test certificates"
    click.echo(f"demo PKI in {out}: {counts}")
    click.echo("")
    click.echo(_configuration(resultaat))


@pki.command("show")
@click.argument("certificate", metavar="CERT", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def show(ctx: click.Context, certificate: Path) -> None:
    """Show subject, OIN, issuer, validity, key and key usage of CERT (PEM or DER; first of a chain).

    Exit status 1 when subject serialNumber holds no valid OIN (20 characters 0-9 A-Z, T10
    and docs/rules.md, OIN syntax), 2 when CERT is not a certificate.
    """
    try:
        cert = _read_first_certificate(certificate)
    except ValueError as error:
        click.echo(f"error: {certificate} is not an X.509 certificate ({error})", err=True)
        ctx.exit(2)
    for label, value in _description(cert):
        click.echo(f"{label + ':':<17}{value}")
    oin = oin_of(cert)
    if oin is None or not is_valid_oin(oin):
        click.echo("error: no valid OIN in subject serialNumber (edukoppeling.md T10)", err=True)
        ctx.exit(1)


def demo_partijen() -> list[tuple[str, str]]:
    """The (OIN, name) pairs of broker/registry/demo-partijen.toml, in file order.

    Output: list of tuples; raises ``tomllib.TOMLDecodeError`` or ``KeyError`` when the packaged file is
    broken (a packaging error, not an operator one).
    """
    text = resources.files("broker.registry").joinpath(DEMO_PARTIJEN).read_text(encoding="utf-8")
    return [(partij["oin"], partij["naam"]) for partij in tomllib.loads(text)["partij"]]


# ---------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------


def _refuse_in_production() -> None:
    """Under ``vva`` (with settings) refuse in production, as ``vva init --demo`` does."""
    runtime = click.get_current_context().find_root().obj
    settings = getattr(runtime, "settings", None)
    if getattr(settings, "environment", None) == "production":
        raise click.UsageError("the demo PKI is for test only: environment = production")


def _configuration(resultaat: DemoPki) -> str:
    """The vva.toml lines that make the broker use this demo PKI (names as in broker/config.py)."""
    broker = resultaat.broker
    ca = ", ".join(f'"{p}"' for p in resultaat.ca_files)
    crl = ", ".join(f'"{p}"' for p in resultaat.crl_files)
    example = next(iter(resultaat.partijen.values()), broker)
    return "\n".join(
        [
            "Configure the broker with it (vva.toml):",
            f'  pki_dir = "{resultaat.map}"',
            f"  trust_ca = [{ca}]",
            f"  trust_crl = [{crl}]",
            "  crl_grace_s = 0",
            f'  signing_key = "{broker.key}"',
            f'  signing_certificate = "{broker.certificate}"',
            "  # optional, two-way TLS in vva serve itself (SAN localhost and 127.0.0.1):",
            f'  tls_key = "{broker.key}"',
            f'  tls_certificate = "{broker.chain}"',
            f'  tls_client_ca = "{resultaat.root}"',
            "A party signs with <OIN>.key.pem and <OIN>.cert.pem; over TLS it presents <OIN>.chain.pem, e.g.:",
            f"  curl --cert {example.chain} --key {example.key} \\",
            f"       --cacert {resultaat.root} https://localhost:<port>/<service>",
            f"The CRLs expire 7 days after issue: run 'vva pki demo --out {resultaat.map}' again.",
            "FICTIONAL: never trust this CA in production (the broker refuses it there).",
        ]
    )


def _read_first_certificate(path: Path) -> x509.Certificate:
    data = path.read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)[0]
    return x509.load_der_x509_certificate(data)


def _description(cert: x509.Certificate) -> list[tuple[str, str]]:
    return [
        ("subject", cert.subject.rfc4514_string(_NAMES)),
        ("OIN", _oin_text(cert)),
        ("issuer", cert.issuer.rfc4514_string(_NAMES)),
        ("valid", _validity_text(cert)),
        ("key", _key_text(cert)),
        ("key usage", _key_usage_text(cert)),
        ("ext. key usage", _eku_text(cert)),
        ("SHA-256", cert.fingerprint(hashes.SHA256()).hex(":").upper()),
    ]


def _oin_text(cert: x509.Certificate) -> str:
    oin = oin_of(cert)
    if oin is None:
        return "(none: no single serialNumber in the subject)"
    if not is_valid_oin(oin):
        return f"{oin} (INVALID: must be 20 characters 0-9 A-Z)"
    return f"{oin} (test OIN: refused in production)" if is_test_oin(oin) else oin


def _validity_text(cert: x509.Certificate) -> str:
    now = datetime.now(UTC)
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    state = "EXPIRED" if now > not_after else "NOT YET VALID" if now < not_before else "valid now"
    return f"{not_before:%Y-%m-%d %H:%M:%SZ} to {not_after:%Y-%m-%d %H:%M:%SZ} ({state})"


def _key_text(cert: x509.Certificate) -> str:
    key = rsa_key(cert)
    if key is None:
        kind = f"EC {cert.public_key().curve.name}" if is_ec(cert) else "non-RSA"
        return f"{kind} (not RSA: refused, hostile-inputs.md H34)"
    weak = (
        f" (below {MIN_RSA_BITS}: refused, hostile-inputs.md H34)" if key.key_size < MIN_RSA_BITS else ""
    )
    return f"RSA {key.key_size} bits{weak}"


def _key_usage_text(cert: x509.Certificate) -> str:
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "(none)"
    return ", ".join(name for attribute, name in _KEY_USAGE_NAMES if getattr(ku, attribute)) or "(empty)"


def _eku_text(cert: x509.Certificate) -> str:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return "(none)"
    return ", ".join(_EKU_NAMES.get(oid, oid.dotted_string) for oid in eku)
