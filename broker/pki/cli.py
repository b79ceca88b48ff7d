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

from broker.domain.identifiers import is_geldig_oin, is_test_oin
from broker.edukoppeling.sleutels import MIN_RSA_BITS, is_ec, rsa_sleutel
from broker.edukoppeling.vertrouwen import oin_van
from broker.pki.demo import DemoPki, maak_demo_pki

DEMO_PARTIJEN = "demo-partijen.toml"
#: RFC 4514 has no short name for serialNumber (the OIN); print it by name rather than as 2.5.4.5.
_NAMEN = {NameOID.SERIAL_NUMBER: "serialNumber"}

_KEY_USAGE_NAMEN = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)

_EKU_NAMEN = {
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
    "uit",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the demo PKI (made when missing; an existing demo PKI there is completed).",
)
def demo(uit: Path) -> None:
    """Make the FICTIONAL demo PKI: CAs, CRLs, a certificate for the broker and every demo party.

    Idempotent: an existing CA in DIR is kept, missing certificates are added, the CRLs are re-issued
    (valid 7 days: run again to refresh them). Refused with environment = production.
    """
    _weiger_in_productie()
    resultaat = maak_demo_pki(uit, demo_partijen())
    for pad in resultaat.geschreven:
        click.echo(f"wrote {pad}")
    aantallen = f"broker, {len(resultaat.partijen)} parties, {len(resultaat.test)} test certificates"
    click.echo(f"demo PKI in {uit}: {aantallen}")
    click.echo("")
    click.echo(_configuratie(resultaat))


@pki.command("show")
@click.argument("certificaat", metavar="CERT", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def show(ctx: click.Context, certificaat: Path) -> None:
    """Show subject, OIN, issuer, validity, key and key usage of CERT (PEM or DER; first of a chain).

    Exit status 1 when subject serialNumber holds no valid OIN (20 characters 0-9 A-Z, T10
    and docs/rules.md, OIN syntax), 2 when CERT is not a certificate.
    """
    try:
        cert = _lees_eerste_certificaat(certificaat)
    except ValueError as fout:
        click.echo(f"error: {certificaat} is not an X.509 certificate ({fout})", err=True)
        ctx.exit(2)
    for label, waarde in _beschrijving(cert):
        click.echo(f"{label + ':':<17}{waarde}")
    oin = oin_van(cert)
    if oin is None or not is_geldig_oin(oin):
        click.echo("error: no valid OIN in subject serialNumber (edukoppeling.md T10)", err=True)
        ctx.exit(1)


def demo_partijen() -> list[tuple[str, str]]:
    """The (OIN, name) pairs of broker/registry/demo-partijen.toml, in file order.

    Output: list of tuples; raises ``tomllib.TOMLDecodeError`` or ``KeyError`` when the packaged file is
    broken (a packaging error, not an operator one).
    """
    tekst = resources.files("broker.registry").joinpath(DEMO_PARTIJEN).read_text(encoding="utf-8")
    return [(partij["oin"], partij["naam"]) for partij in tomllib.loads(tekst)["partij"]]


# ---------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------


def _weiger_in_productie() -> None:
    """Under ``vva`` (with settings) refuse in production, as ``vva init --demo`` does."""
    omgeving = click.get_current_context().find_root().obj
    instellingen = getattr(omgeving, "settings", None)
    if getattr(instellingen, "environment", None) == "production":
        raise click.UsageError("the demo PKI is for test only: environment = production")


def _configuratie(resultaat: DemoPki) -> str:
    """The vva.toml lines that make the broker use this demo PKI (names as in broker/config.py)."""
    broker = resultaat.broker
    ca = ", ".join(f'"{p}"' for p in resultaat.ca_bestanden)
    crl = ", ".join(f'"{p}"' for p in resultaat.crl_bestanden)
    voorbeeld = next(iter(resultaat.partijen.values()), broker)
    return "\n".join(
        [
            "Configure the broker with it (vva.toml):",
            f'  pki_map = "{resultaat.map}"',
            f"  vertrouwen_ca = [{ca}]",
            f"  vertrouwen_crl = [{crl}]",
            "  crl_gratie_s = 0",
            f'  onderteken_sleutel = "{broker.sleutel}"',
            f'  onderteken_certificaat = "{broker.certificaat}"',
            "  # optional, two-way TLS in vva serve itself (SAN localhost and 127.0.0.1):",
            f'  tls_sleutel = "{broker.sleutel}"',
            f'  tls_certificaat = "{broker.keten}"',
            f'  tls_client_ca = "{resultaat.root}"',
            "A party signs with <OIN>.key.pem and <OIN>.cert.pem; over TLS it presents <OIN>.chain.pem, e.g.:",
            f"  curl --cert {voorbeeld.keten} --key {voorbeeld.sleutel} \\",
            f"       --cacert {resultaat.root} https://localhost:<port>/<service>",
            f"The CRLs expire 7 days after issue: run 'vva pki demo --out {resultaat.map}' again.",
            "FICTIONAL: never trust this CA in production (the broker refuses it there).",
        ]
    )


def _lees_eerste_certificaat(pad: Path) -> x509.Certificate:
    data = pad.read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)[0]
    return x509.load_der_x509_certificate(data)


def _beschrijving(cert: x509.Certificate) -> list[tuple[str, str]]:
    return [
        ("subject", cert.subject.rfc4514_string(_NAMEN)),
        ("OIN", _oin_tekst(cert)),
        ("issuer", cert.issuer.rfc4514_string(_NAMEN)),
        ("valid", _geldigheid_tekst(cert)),
        ("key", _sleutel_tekst(cert)),
        ("key usage", _key_usage_tekst(cert)),
        ("ext. key usage", _eku_tekst(cert)),
        ("SHA-256", cert.fingerprint(hashes.SHA256()).hex(":").upper()),
    ]


def _oin_tekst(cert: x509.Certificate) -> str:
    oin = oin_van(cert)
    if oin is None:
        return "(none: no single serialNumber in the subject)"
    if not is_geldig_oin(oin):
        return f"{oin} (INVALID: must be 20 characters 0-9 A-Z)"
    return f"{oin} (test OIN: refused in production)" if is_test_oin(oin) else oin


def _geldigheid_tekst(cert: x509.Certificate) -> str:
    nu = datetime.now(UTC)
    van, tot = cert.not_valid_before_utc, cert.not_valid_after_utc
    staat = "EXPIRED" if nu > tot else "NOT YET VALID" if nu < van else "valid now"
    return f"{van:%Y-%m-%d %H:%M:%SZ} to {tot:%Y-%m-%d %H:%M:%SZ} ({staat})"


def _sleutel_tekst(cert: x509.Certificate) -> str:
    sleutel = rsa_sleutel(cert)
    if sleutel is None:
        soort = f"EC {cert.public_key().curve.name}" if is_ec(cert) else "non-RSA"
        return f"{soort} (not RSA: refused, hostile-inputs.md H34)"
    zwak = (
        f" (below {MIN_RSA_BITS}: refused, hostile-inputs.md H34)" if sleutel.key_size < MIN_RSA_BITS else ""
    )
    return f"RSA {sleutel.key_size} bits{zwak}"


def _key_usage_tekst(cert: x509.Certificate) -> str:
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "(none)"
    return ", ".join(naam for attribuut, naam in _KEY_USAGE_NAMEN if getattr(ku, attribuut)) or "(empty)"


def _eku_tekst(cert: x509.Certificate) -> str:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return "(none)"
    return ", ".join(_EKU_NAMEN.get(oid, oid.dotted_string) for oid in eku)
