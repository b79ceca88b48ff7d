"""``vva refdata``: load DUO open data (or the fictional demo set) and show what is loaded.

Exit codes of ``load`` and ``demo``: 0 everything loaded; 1 some rows were refused (the good rows are
committed anyway, and each refused row is printed as "file:line: reason" on stderr); 2 a file is unusable
(nothing is loaded).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from broker.bootstrap import Runtime
from broker.db import models
from broker.db.migrate import upgrade
from broker.refdata.check import CheckResult, check_all
from broker.refdata.duo import UnknownFile
from broker.refdata.load import TABLES, LoadReport, load_demo, load_files
from broker.refdata.lookup import refdata_year

_CYCLUS_OPTION = click.option(
    "--cyclus",
    type=click.IntRange(1900, 9999),
    help="Cycle year the data are valid from (default: the cycle of today).",
)


def _gemeentecodes(_ctx, _param, values: tuple[str, ...]) -> tuple[str, ...]:
    codes = []
    for value in values:
        code = value.strip()
        if not (code.isdigit() and len(code) <= 4):
            raise click.BadParameter(f"{value!r} is no CBS gemeentecode (4 digits, e.g. 0397)")
        codes.append(code.zfill(4))
    return tuple(codes)


#: ``--ended-gemeente``: the operator's deliberate acknowledgement that a gemeente of the previous cycle
#: ended (was merged: "gemeente opgeheven"), so its absence from the new files is no error.
ENDED_GEMEENTE_OPTION = click.option(
    "--ended-gemeente",
    "ended_gemeenten",
    multiple=True,
    metavar="CODE",
    callback=_gemeentecodes,
    help="CBS code of a gemeente of the previous cycle that ended (merged, opgeheven) and is rightly "
    "missing from this cycle's DUO files (repeatable). Without it, a missing gemeente fails the check.",
)

_MODELS = {
    "rmc_regio": models.RmcRegio,
    "gemeente": models.Gemeente,
    "instelling": models.Instelling,
    "vestiging": models.Vestiging,
}


@click.group()
def refdata() -> None:
    """DUO reference data: institutions, gemeenten, RMC regions."""


@refdata.command("load")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@_CYCLUS_OPTION
@click.pass_context
def load(ctx: click.Context, files: tuple[Path, ...], cyclus: int | None) -> None:
    """Load DUO CSV files of one cycle and commit; the yearly set is 02.-alle-vestigingen-vo.csv,
    02.-alle-schoolvestigingen-basisonderwijs.csv, 09.-alle-vestigingen-sbo-so-en-vso.csv and
    01.-adressen-mbo-instellingen.csv (check it with ``vva refdata check``).

    The database schema is created or upgraded first, so this works on a fresh database.
    """
    runtime: Runtime = ctx.obj
    jaar = _cyclus_jaar(runtime, cyclus)
    upgrade(runtime.engine)
    with runtime.sessions() as session:
        try:
            report = load_files(session, files, jaar)
        except (UnknownFile, OSError) as error:
            click.echo(f"error: {error}; nothing loaded", err=True)
            ctx.exit(2)
        session.commit()
    _report(ctx, report)


@refdata.command("demo")
@_CYCLUS_OPTION
@click.pass_context
def demo(ctx: click.Context, cyclus: int | None) -> None:
    """Load the fictional demo set (BRINs 99XA-99XF, see broker/refdata/demo/README.md) and commit."""
    runtime: Runtime = ctx.obj
    jaar = _cyclus_jaar(runtime, cyclus)
    upgrade(runtime.engine)
    with runtime.sessions() as session:
        report = load_demo(session, jaar)
        session.commit()
    _report(ctx, report)


@refdata.command("check")
@_CYCLUS_OPTION
@ENDED_GEMEENTE_OPTION
@click.pass_context
def check(ctx: click.Context, cyclus: int | None, ended_gemeenten: tuple[str, ...]) -> None:
    """Say whether the cycle's reference data are complete; exit 1 and name what is missing if not."""
    runtime: Runtime = ctx.obj
    jaar = _cyclus_jaar(runtime, cyclus)
    upgrade(runtime.engine)
    with runtime.sessions() as session:
        uitkomst = check_all(session, jaar, ended_gemeenten)
    report_check(uitkomst)
    if not uitkomst.complete:
        ctx.exit(1)


def report_check(uitkomst: CheckResult) -> None:
    """The outcome of a check: a summary on stdout, each problem on stderr."""
    kinds = ", ".join(f"{uitkomst.instellingen.get(s, 0)} {s}" for s in ("vo", "vso", "mbo"))
    click.echo(
        f"cycle {uitkomst.cyclus_jaar}: {uitkomst.gemeenten} gemeenten in {uitkomst.regios} RMC regions; "
        f"institutions: {kinds}"
    )
    if uitkomst.ended_gemeenten:
        click.echo(f"acknowledged as ended: gemeente {', '.join(uitkomst.ended_gemeenten)}")
    for problem in uitkomst.problems:
        click.echo(f"missing: {problem}", err=True)
    click.echo("reference data complete" if uitkomst.complete else "reference data INCOMPLETE")


@refdata.command("show")
@click.option("--brin", help="Show one institution (BRIN4) and its vestigingen instead of the counts.")
@_CYCLUS_OPTION
@click.pass_context
def show(ctx: click.Context, brin: str | None, cyclus: int | None) -> None:
    """Print the number of rows per reference table of a cycle, or one institution."""
    runtime: Runtime = ctx.obj
    if not inspect(runtime.engine).has_table(models.Instelling.__tablename__):
        click.echo("no reference data: the database has no schema yet (vva refdata load)", err=True)
        ctx.exit(1)
    with runtime.sessions() as session:
        jaar = refdata_year(session, _cyclus_jaar(runtime, cyclus))
        if brin is None:
            click.echo(f"reference data of cycle {jaar if jaar is not None else '-'}")
            for table in TABLES:
                model = _MODELS[table]
                total = session.scalar(
                    select(func.count()).select_from(model).where(model.cyclus_jaar == jaar)
                )
                click.echo(f"{table}: {total}")
            return
        instelling = session.get(models.Instelling, (jaar, brin.strip().upper())) if jaar else None
        if instelling is None:
            click.echo(f"instelling {brin} not found", err=True)
            ctx.exit(1)
        _show_instelling(session, instelling)


def _cyclus_jaar(runtime: Runtime, cyclus: int | None) -> int:
    # Only consult the calendar when needed: it reads the deadline overrides from the settings.
    return cyclus if cyclus is not None else runtime.calendar.cyclus_on(date.today()).jaar


def _report(ctx: click.Context, report: LoadReport) -> None:
    """Counts on stdout; warnings and refused rows on stderr; exit 1 when rows were refused."""
    files = ", ".join(report.files)
    click.echo(f"cycle {report.cyclus_jaar}: {report.row_count} rows read from {files}")
    for table in TABLES:
        count = report.counts[table]
        click.echo(
            f"{table}: new {count.new}, changed {count.changed}, unchanged {count.unchanged}"
            + (f", ended {count.beeindigd}" if count.beeindigd else "")
        )
    click.echo(f"rejected: {len(report.rejected)}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for row in report.rejected:
        click.echo(str(row), err=True)
    if report.rejected:
        ctx.exit(1)


def _show_instelling(session: Session, instelling: models.Instelling) -> None:
    jaar = instelling.cyclus_jaar
    gemeente = (
        session.get(models.Gemeente, (jaar, instelling.gemeentecode)) if instelling.gemeentecode else None
    )
    regio = session.get(models.RmcRegio, (jaar, instelling.rmc_regio)) if instelling.rmc_regio else None
    ended = f", ended in cycle {jaar}" if instelling.beeindigd else ""
    click.echo(f"{instelling.brin} ({instelling.onderwijssoort}{ended}) {instelling.naam}")
    click.echo(f"  contact: {instelling.telefoon or '-'} {instelling.internetadres or '-'}")
    click.echo(f"  gemeente: {instelling.gemeentecode or '-'} {gemeente.naam if gemeente else ''}".rstrip())
    click.echo(f"  RMC-regio: {instelling.rmc_regio or '-'} {regio.naam if regio else ''}".rstrip())
    click.echo(f"  valid from cycle: {instelling.geldig_vanaf_cyclus}")
    vestigingen = session.scalars(
        select(models.Vestiging)
        .where(models.Vestiging.cyclus_jaar == jaar, models.Vestiging.brin == instelling.brin)
        .order_by(models.Vestiging.code)
    ).all()
    click.echo(f"  vestigingen: {len(vestigingen)}")
    for v in vestigingen:
        place = " ".join(filter(None, [v.postcode, v.plaats, v.gemeentecode]))
        click.echo(f"    {v.code} {v.naam} | {place} | {v.onderwijsstructuur or '-'}")
