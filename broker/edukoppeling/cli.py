"""``vva envelope``: sign and check Edukoppeling envelopes offline, as a partner would.

``verify`` runs the broker's own inbound checks (parse, envelope, WS-Addressing, WS-Security,
certificate) on a file and prints ``valid`` or the fault code with the precise reason — the tool a
LAS vendor uses to find out why a message was refused.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from broker.domain.identifiers import is_valid_oin
from broker.edukoppeling.addressing import read_addressing
from broker.edukoppeling.contract import Contract
from broker.edukoppeling.envelope import read_envelope
from broker.edukoppeling.faults import EdukoppelingFault, FaultCode
from broker.edukoppeling.parsing import parse_message
from broker.edukoppeling.response import to_bytes
from broker.edukoppeling.trust_store import oin_of
from broker.edukoppeling.wss.signer import Signer
from broker.edukoppeling.wss.verification import verify_envelope


@click.group()
def envelope() -> None:
    """Sign and check Edukoppeling envelopes offline."""


@envelope.command("sign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--cert", "certificate", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Default: standard output."
)
def sign(file: Path, key_path: Path, certificate: Path, out: Path | None) -> None:
    """Sign envelope BESTAND as profile 2W-be-S: Timestamp (now, +300 s), BinarySecurityToken, and
    one SHA-256 reference per wsa header, the Body and the Timestamp (WUS WB004)."""
    try:
        root = parse_message(file.read_bytes())
    except EdukoppelingFault as error:
        raise click.ClickException(f"{error.code}: {error.reason}") from None
    try:
        signer = Signer.from_files(key_path, certificate)
    except ValueError as error:  # not an RSA key of 2048 bits or more, or not the certificate's key
        raise click.ClickException(str(error)) from None
    signer.sign(root, datetime.now(UTC))
    data = to_bytes(root)
    if out is None:
        sys.stdout.buffer.write(data)
    else:
        out.write_bytes(data)


@envelope.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--at",
    "moment",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S"]),
    help="Check the Timestamp and certificate at this UTC time (default: now).",
)
@click.option(
    "--trust",
    "trusted",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CA certificate (PEM) to trust; repeatable.",
)
@click.option(
    "--crl",
    "crls",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CRL for --trust; without one the revocation status is unknown (DK0051).",
)
@click.option(
    "--trust-embedded",
    "embedded",
    is_flag=True,
    help="Trust the certificate in the message itself (no chain or CRL check).",
)
@click.option(
    "--any-recipient",
    "everyone",
    is_flag=True,
    help="Do not require wsa:To to be the broker, nor the action one of the broker's.",
)
@click.pass_obj
def verify(runtime, file: Path, moment, trusted, crls, embedded: bool, everyone: bool) -> None:
    """Run the inbound checks on BESTAND; print 'valid' (exit 0) or the fault code and reason (exit 1)."""
    if bool(trusted) == embedded:
        raise click.UsageError("give --trust CERT (one or more) or --trust-embedded")
    now = moment.replace(tzinfo=UTC) if moment else datetime.now(UTC)
    try:
        oin, count = _check(runtime, file.read_bytes(), now, trusted, crls, everyone)
    except EdukoppelingFault as error:
        click.echo(f"{error.code}: {error.faultstring} ({error.reason})")
        sys.exit(1)
    except ValueError as error:  # a trust store the installation refuses (a demo CA in production)
        raise click.ClickException(str(error)) from None
    click.echo(f"valid (signed by OIN {oin}, {count} signed parts)")


def _check(runtime, raw: bytes, now: datetime, trusted, crls, everyone: bool) -> tuple[str, int]:
    soap_envelope = read_envelope(parse_message(raw), wss_allowed=True)
    if everyone:
        read_addressing(soap_envelope, '""', None, None)
    else:
        actions = {a for d in Contract().services.values() for a in d.actions}
        read_addressing(soap_envelope, '""', runtime.settings.broker_oins, actions)
    verified = verify_envelope(soap_envelope, now)
    if trusted:
        # Under the installation's rules, as the broker itself would check it: in production a demo CA
        # is refused and a test OIN is not valid.
        oin = runtime.trust_store_of(trusted, crls).check_all(verified.certificate, "ondertekening", now)
    else:
        oin = _embedded_oin(verified.certificate)
    return oin, len(verified.signed)


def _embedded_oin(certificate) -> str:
    oin = oin_of(certificate) or ""
    if not is_valid_oin(oin):
        raise EdukoppelingFault(
            FaultCode.CLIENT_EK0030, "certificate subject serialNumber is not a valid OIN"
        )
    return oin
