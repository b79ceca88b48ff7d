"""``vva conformance``: the partner test kit on the command line."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import click
from cryptography import x509

from broker.config import TEST_BROKER_OIN

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_SERVICE_PATH = re.compile(r"/vva/([a-z]+)/v1/?$")


@click.group()
def conformance() -> None:
    """The conformance kit: replay the sample envelopes and check every answer."""


@conformance.command("list")
@click.option("--manifest", "manifest_path", type=_FILE, help="Default: the kit's own manifest.")
def list_(manifest_path: Path | None) -> None:
    """List every case: id, service, expected outcome, what it sends."""
    from broker.conformance.manifest import load_manifest

    for case in load_manifest(manifest_path).cases:
        click.echo(f"{case.id:36} {case.dienst:9} {' | '.join(case.outcomes):28} {case.omschrijving}")


@conformance.command("run")
@click.option(
    "--endpoint", required=True, help="Service URL, e.g. https://host/vva/vo/v1 (or the receiver's URL)."
)
@click.option("--key", "key_path", required=True, type=_FILE, help="Your signing key (PEM).")
@click.option("--cert", "certificate", required=True, type=_FILE, help="Your signing certificate (PEM).")
@click.option(
    "--ca",
    "cas",
    multiple=True,
    type=_FILE,
    help="CA certificate (PEM) for the server's TLS certificate and the answers' signatures; repeatable.",
)
@click.option(
    "--crl",
    "crls",
    multiple=True,
    type=_FILE,
    help="CRL (PEM) of a --ca: then the answers' signers are checked for revocation too; repeatable.",
)
@click.option(
    "--client-cert", "client_cert", type=_FILE, help="TLS client certificate chain (PEM). Default: --cert."
)
@click.option("--client-key", "client_key", type=_FILE, help="TLS client key (PEM). Default: --key.")
@click.option(
    "--receiver", "receiver_mode", is_flag=True, help="Test a partner's push receiver: the kit plays the broker."
)
@click.option(
    "--oin",
    "target_oin",
    help=f"OIN of the endpoint under test (wsa:To). Default: the test broker {TEST_BROKER_OIN}; required with --receiver.",
)
@click.option("--as", "from_oin", help="OIN in wsa:From (the party you speak for). Default: the OIN of --cert.")
@click.option("--brin", help="BRIN used in delivery samples. Default: from a BRIN-based OIN.")
@click.option(
    "--service",
    "dienst",
    type=click.Choice(["vo", "mbo", "gemeente", "regio"]),
    help="Service under test. Default: from the endpoint path /vva/<service>/v1.",
)
@click.option(
    "--profile", "profile", type=click.Choice(["2W-be-S", "2W-be"]), default="2W-be-S", show_default=True
)
@click.option(
    "--only", "only", multiple=True, help="Run only this case id (or prefix ending in *); repeatable."
)
@click.option(
    "--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML here."
)
@click.option(
    "--save",
    "save_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write every request and answer here (<case>.request.xml, <case>.response.xml).",
)
@click.option("--manifest", "manifest_path", type=_FILE, help="Default: the kit's own manifest.")
@click.option("--timeout", "timeout_s", default=60.0, show_default=True, help="Seconds per request.")
@click.pass_obj
def run(
    runtime,
    endpoint: str,
    key_path: Path,
    certificate: Path,
    cas: tuple[Path, ...],
    crls: tuple[Path, ...],
    client_cert: Path | None,
    client_key: Path | None,
    receiver_mode: bool,
    target_oin: str | None,
    from_oin: str | None,
    brin: str | None,
    dienst: str | None,
    profile: str,
    only: tuple[str, ...],
    junit_path: Path | None,
    save_dir: Path | None,
    manifest_path: Path | None,
    timeout_s: float,
) -> None:
    """Replay every case against ENDPOINT, print a table, exit 1 when any case failed.

    Every message is signed at replay time with --key/--cert (a fresh Timestamp and MessageID) and
    sent over two-way TLS with --client-cert/--client-key (default: the same certificate) for an
    https endpoint. Each answer is compared with the manifest: the outcome (accepted, the exact
    faultcode, or an HTTP status), and the answer itself (status, Content-Type, RelatesTo, response
    element, faultstring, and under 2W-be-S its signature and SignatureConfirmation).
    """
    from broker.conformance.manifest import load_manifest
    from broker.conformance.messages import Sender, certificaat_oin
    from broker.conformance.report import junit, table
    from broker.conformance.runner import Connection, Kit, Target

    if receiver_mode:
        if target_oin is None:
            raise click.UsageError("--receiver needs --oin: the receiver's own OIN")
        dienst = "ontvanger"
    elif dienst is None:
        found = _SERVICE_PATH.search(endpoint.split("?")[0])
        if found is None or found.group(1) not in ("vo", "mbo", "gemeente", "regio"):
            raise click.UsageError("cannot tell the service from --endpoint: give --service")
        dienst = found.group(1)
    key_pem, certificate_pem = key_path.read_bytes(), certificate.read_bytes()
    own_oin = certificaat_oin(x509.load_pem_x509_certificate(certificate_pem))
    from_oin = from_oin or own_oin
    if brin is None and from_oin.startswith("00000007"):
        brin = from_oin[11:15]
    sender = Sender(key_pem, certificate_pem, from_oin, brin)
    target = Target(endpoint, dienst, "ontvanger" if receiver_mode else "broker", target_oin or TEST_BROKER_OIN)
    # The composition root's trust store rules: in production no demo CA and no test OIN in an answer.
    try:
        trust = runtime.trust_store_of(cas, crls) if cas and crls else None
    except ValueError as error:
        raise click.UsageError(f"--ca/--crl: {error}") from None
    with tempfile.TemporaryDirectory() as temporary:
        bundle = None
        if cas:
            bundle = Path(temporary) / "ca.pem"
            bundle.write_bytes(b"".join(p.read_bytes() for p in cas))
        connection = Connection(bundle, (client_cert or certificate, client_key or key_path), timeout_s)
        if save_dir is not None:
            save_dir.mkdir(parents=True, exist_ok=True)
        kit = Kit(
            load_manifest(manifest_path), target, sender, connection, trust, profile == "2W-be-S", save_dir
        )
        cases = kit.cases(only)
        if not cases:
            raise click.UsageError("no case matches --only")
        click.echo(
            f"{target.modus} {target.url} (service {dienst}, OIN {target.oin}) as {from_oin}, signed by {own_oin}"
        )
        if trust is None:
            click.echo(
                "note: answers' signers are checked by OIN only; give --ca and --crl to check their chain too"
            )
        verdicts = kit.run(cases)
    click.echo(table(verdicts))
    if junit_path is not None:
        junit(verdicts, junit_path, f"vva-conformance-{dienst}")
    if any(not u.geslaagd and u.skipped is None for u in verdicts):
        sys.exit(1)
