"""``vva client``: deliver a CSV file and ask the broker what it knows, as a school, an MBO
institution or a gemeente without a coupled LAS (docs/client.md)."""

from __future__ import annotations

import json
import sys
from functools import cached_property
from pathlib import Path

import click
import requests
from tqdm import tqdm
from zeep.exceptions import Fault, TransportError

from broker.bootstrap import Runtime, build_signer
from broker.client import output
from broker.client.connection import Connection, explain_connection_error
from broker.client.settings import ClientSettings, ClientSettingsError, read_client_settings
from broker.outbound.signing import UntrustedResponse
from broker.service.file_upload import FORMATS as FILE_FORMATS

#: Exit status of an upload in which the broker rejected rows (the others were applied).
ROWS_REJECTED = 3
#: Files from this size get a progress bar on a terminal.
PROGRESS_FROM = 256 * 1024


class _Session:
    """The settings and the connection, read when a command first needs them (``template`` never does)."""

    def __init__(self, path: str | None, runtime: Runtime) -> None:
        self.path, self.runtime = path, runtime

    @cached_property
    def settings(self) -> ClientSettings:
        try:
            return read_client_settings(self.path)
        except ClientSettingsError as error:
            raise click.UsageError(str(error)) from None

    @cached_property
    def connection(self) -> Connection:
        i = self.settings
        # The party's own signer; the broker's answers checked under this installation's rules
        # (in production: no demo CA, no test OIN), both from the composition root.
        try:
            return Connection(
                i, build_signer(i.key, i.certificate), self.runtime.trust_store_of(i.ca, i.crl)
            )
        except (ValueError, OSError) as error:  # a key, certificate, CA or CRL that cannot be used
            raise click.ClickException(f"{self.path or 'vva-client.toml'}: {error}") from None

    def service(self, allowed: tuple[str, ...], default: str | None = None) -> str:
        """The configured service when it offers the command, else ``default``; UsageError otherwise."""
        service = self.settings.service or default
        if service not in allowed:
            raise click.UsageError(
                f"this command needs service = {' or '.join(allowed)} in the client settings "
                f"(now: {self.settings.service or 'not set'})"
            )
        return service

    def call(self, service: str, operation: str, **arguments):
        """Call ``operation`` on ``service``; a fault, an unverifiable answer or an unreachable broker
        ends the command with exit status 1 and a readable message (never a traceback)."""
        try:
            return getattr(self.connection.service(service), operation)(**arguments)
        except Fault as error:
            detail = "" if error.detail is None else " ".join("".join(error.detail.itertext()).split())
            _stop(
                f"the broker refused the message: {error.code} {error.message}"
                + (f"\n{detail}" if detail else "")
            )
        except UntrustedResponse as error:
            _stop(f"the broker's answer could not be verified, so it is not shown: {error}")
        except TransportError as error:
            explanation = " (the file is too large for one message)" if error.status_code == 413 else ""
            _stop(f"the broker answered HTTP {error.status_code}{explanation}")
        except requests.RequestException as error:
            _stop(explain_connection_error(error, self.settings, self.path or "vva-client.toml"))


def _stop(text: str) -> None:
    click.echo(f"error: {text}", err=True)
    sys.exit(1)


_format = click.option(
    "--format",
    "output_format",
    type=click.Choice(output.FORMATS),
    default="table",
    show_default=True,
    help="Output: a readable table, CSV (;) or JSON.",
)


@click.group("client")
@click.option(
    "--config",
    "config_path",
    envvar="VVA_CLIENT_CONFIG",
    type=click.Path(dir_okay=False),
    help="Client settings (TOML). Default: ./vva-client.toml.",
)
@click.pass_context
def client(ctx: click.Context, config_path: str | None) -> None:
    """Talk to the broker as a school, institution or gemeente: upload files, ask statuses.

    Every message is signed with your key and every answer verified before it is shown.
    """
    ctx.obj = _Session(config_path, ctx.obj)


@client.command()
@click.argument("file", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--flow", type=click.Choice(["vo", "mbo"]), required=True, help="vo: pupils; mbo: registrations."
)
@click.option(
    "--replace",
    is_flag=True,
    help="vo: the file is your whole start population; pupils of its BRINs that are not in it are "
    "withdrawn (reason nietMeerAangeleverd).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help=f"Progress bar while sending (default: on a terminal, for files over {PROGRESS_FROM // 1024} KiB).",
)
@_format
@click.pass_obj
def upload(
    session: _Session, file: Path, flow: str, replace: bool, progress: bool | None, output_format: str
) -> None:
    """Deliver a CSV file (see `vva client template`) and report per row.

    Rejected rows are listed and written to FILE's name + .fouten.csv next to it; the other rows are
    applied. Exit status 0: all applied; 3: some rows rejected; 1: the file was refused as a whole
    (nothing applied).
    """
    if not file.is_file():
        raise click.UsageError(f"{file} is not a regular file (the report is written next to it)")
    if replace and flow != "vo":
        raise click.UsageError("--replace is for --flow vo (a school's start population)")
    content = file.read_bytes()
    show_progress = (
        progress if progress is not None else len(content) >= PROGRESS_FROM and sys.stderr.isatty()
    )
    if show_progress:
        session.connection.transport.progress = lambda total: tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=f"upload {file.name}",
            file=sys.stderr,
            disable=False,
        )
    if flow == "vo":
        resultaat = session.call(
            "vo", "aanleverenLeerlingenBestand", vervangStartpopulatie=replace or None, bestand=content
        )
    else:
        resultaat = session.call("mbo", "aanleverenAanmeldingenBestand", bestand=content)
    rejected = output.rejected(resultaat)
    rapport = file.with_name(f"{file.stem}.fouten.csv")
    if rejected:
        output.write_report(rapport, rejected)
    else:
        rapport.unlink(missing_ok=True)  # an old report would now be misleading
    summary = f"{_rows(resultaat.aantalVerwerkt)} applied, {resultaat.aantalAfgewezen} rejected" + (
        f"; report: {rapport}" if rejected else ""
    )
    if output_format == "json":
        click.echo(_json_object(resultaat, rejected, rapport))
    else:
        click.echo(summary, err=output_format == "csv")
        if rejected or output_format == "csv":
            click.echo(output.show(rejected, output_format, ["rij", "code", "melding"]))
    if rejected:
        sys.exit(ROWS_REJECTED)


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _json_object(resultaat, rejected, rapport) -> str:
    return json.dumps(
        {
            "aantalVerwerkt": resultaat.aantalVerwerkt,
            "aantalAfgewezen": resultaat.aantalAfgewezen,
            "rapport": str(rapport) if rejected else None,
            "afgewezen": rejected,
        },
        ensure_ascii=False,
        indent=2,
    )


@client.command()
@click.option("--bsn", multiple=True, help="Only these pupils (repeatable); default: all you may see.")
@click.option("--onderwijsnummer", multiple=True, help="Only these pupils, by onderwijsnummer (repeatable).")
@_format
@click.pass_obj
def status(session: _Session, bsn: tuple[str, ...], onderwijsnummer: tuple[str, ...], output_format: str) -> None:
    """The status of your pupils: delivered, withdrawn, and their registrations (opvragenStatus)."""
    service = session.service(("vo", "mbo", "regio"))
    ids = [{"bsn": b} for b in bsn] + [{"onderwijsnummer": o} for o in onderwijsnummer]
    response = session.call(service, "opvragenStatus", leerling=ids)
    click.echo(output.show(output.leerlingen(response), output_format, _LEERLING_COLUMNS))


@client.command("niet-aangemeld")
@click.option("--brin", help="Only the pupils of this BRIN of yours.")
@_format
@click.pass_obj
def niet_aangemeld(session: _Session, brin: str | None, output_format: str) -> None:
    """Your active pupils who are not registered at any MBO institution (opvragenNietAangemeld)."""
    service = session.service(("vo", "regio"))
    response = session.call(service, "opvragenNietAangemeld", brinVo=brin)
    click.echo(output.show(output.leerlingen(response), output_format, _LEERLING_COLUMNS))


@client.command()
@click.option("--since", "since", type=int, default=None, help="Only signals with a higher id than this one.")
@_format
@click.pass_obj
def signalen(session: _Session, since: int | None, output_format: str) -> None:
    """Your signals, e.g. a pupil not registered by 1 April (opvragenSignalen)."""
    service = session.service(("vo", "mbo"))
    response = session.call(service, "opvragenSignalen", vanafSignaalId=since)
    columns = ["signaalId", "soort", "aangemaaktOp", "brin", "bsn", "onderwijsnummer", "omschrijving"]
    click.echo(output.show(output.signalen(response), output_format, columns))


@client.command("gemeente-overzicht")
@click.option("--gemeente", multiple=True, help="Only this gemeentecode of yours (repeatable); default: all.")
@_format
@click.pass_obj
def gemeente_overzicht(session: _Session, gemeente: tuple[str, ...], output_format: str) -> None:
    """A gemeente's resident pupils who are not registered or not enrolled (opvragenOverzicht)."""
    session.service(("gemeente",), default="gemeente")
    response = session.call("gemeente", "opvragenOverzicht", woongemeente=list(gemeente))
    click.echo(output.show(output.leerlingen(response), output_format, _LEERLING_COLUMNS))


@client.command()
@click.pass_obj
def ping(session: _Session) -> None:
    """Check the connection, your key and the broker's signature (no personal data)."""
    service = session.service(("vo", "mbo", "gemeente", "regio"))
    response = session.call(service, "ping", echo="vva client")
    click.echo(f"ok: {response.dienst} answered at {response.tijdstip.isoformat()}, signed and verified")


@client.command()
@click.argument("flow", type=click.Choice(sorted(FILE_FORMATS)))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write it (default: leerlingen.csv or aanmeldingen.csv here; - for standard output).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def template(flow: str, out: Path | None, force: bool) -> None:
    """Write an empty upload file for FLOW (vo or mbo): the header and one example row, commented
    out with # so that it is never delivered. UTF-8 with BOM and ; as separator."""
    file_format = FILE_FORMATS[flow]
    text = ";".join(file_format.columns) + "\n# " + ";".join(file_format.example) + "\n"
    if out is not None and str(out) == "-":
        click.echo(text, nl=False)
        return
    out = out or Path("leerlingen.csv" if flow == "vo" else "aanmeldingen.csv")
    if out.exists() and not force:
        raise click.UsageError(f"{out} exists; use --force to overwrite it")
    out.write_text(text, encoding="utf-8-sig")
    click.echo(f"{out}: header and one example row (commented out) for flow {flow}")


_LEERLING_COLUMNS = [
    "bsn",
    "onderwijsnummer",
    "brinVo",
    "woongemeente",
    "mboGangerStatus",
    "aanmeldingen",
    "eldersAangemeld",
    "examenresultaat",
]
