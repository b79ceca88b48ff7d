"""``vva cycle close|open``: the yearly end and start of the exchange (run once a year, by a timer)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click

from broker.audit.trail import OPERATOR, AuditEvent, record_event
from broker.db.migrate import upgrade
from broker.jaarcyclus.close import CyclusError, close_cyclus, open_cyclus
from broker.refdata.check import check_all
from broker.refdata.cli import ENDED_GEMEENTE_OPTION, report_check
from broker.refdata.duo import UnknownFile
from broker.refdata.load import load_demo, load_files
from broker.service.signalen import moment_of


@click.group()
def cycle() -> None:
    """Close a cycle (yearly figures, then delete all its personal data) or open the next one."""


@cycle.command("close")
@click.option("--year", "jaar", type=int, required=True, help="The cycle: the year of its deadline.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Act as of this day (default today).")
@click.pass_obj
def close(runtime, jaar: int, day) -> None:
    """Store the cycle's anonymous yearly figures, then delete every pupil, registration, message,
    signal and push of that cycle and the pupils' pseudonyms in the audit trail. Irreversible; refused
    before the cycle's last day has passed, and refused the second time."""
    today = day.date() if day else date.today()
    upgrade(runtime.engine)
    try:
        with runtime.sessions.begin() as session:
            closing = close_cyclus(session, runtime.calendar, jaar, today, moment_of(today))
    except CyclusError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"cycle {jaar}: {closing.jaarcijfers} yearly figures kept")
    for table, count in closing.removed.items():
        click.echo(f"  {table:22} {count} rows deleted")
    click.echo(f"cycle {jaar} closed: no personal data of it remain")


@cycle.command("open")
@click.option("--year", "jaar", type=int, required=True, help="The cycle: the year of its deadline.")
@click.option(
    "--refdata",
    "files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="DUO open-data CSV files for this cycle (repeat the option per file): the VO, primary-school, "
    "SBO/SO/VSO and MBO files.",
)
@click.option("--demo-refdata", is_flag=True, help="Load the fictional demo reference data instead.")
@ENDED_GEMEENTE_OPTION
@click.pass_obj
def open_(
    runtime,
    jaar: int,
    files: tuple[Path, ...],
    demo_refdata: bool,
    ended_gemeenten: tuple[str, ...],
) -> None:
    """Start cycle YEAR with fresh DUO reference data; refused if it was opened or closed before, or
    when the reference data are incomplete (``vva refdata check``: give all four DUO files). A gemeente
    that ended since the previous cycle (merged) is accepted only when named with --ended-gemeente;
    each acknowledgement is recorded in the audit trail."""
    if bool(files) == demo_refdata:
        raise click.UsageError("give the DUO files with --refdata FILE (or --demo-refdata), not both")
    upgrade(runtime.engine)
    try:
        with runtime.sessions.begin() as session:
            open_cyclus(session, runtime.calendar, jaar, datetime.now(UTC))
            report = load_demo(session, jaar) if demo_refdata else load_files(session, files, jaar)
            check = check_all(session, jaar, ended_gemeenten)
            if not check.complete:
                report_check(check)
                # Raised inside the transaction, so neither the cycle nor its data are stored.
                raise CyclusError(f"cycle {jaar} not opened: its reference data are incomplete (see above)")
            for code in check.ended_gemeenten:
                # A deliberate operator decision that removes a gemeente from the exchange: traced.
                operatie = f"vva cycle open --ended-gemeente {code}"
                record_event(session, AuditEvent(OPERATOR, operatie, "verwerkt", cyclus_jaar=jaar))
    except CyclusError as error:
        raise click.ClickException(str(error)) from None
    except (UnknownFile, OSError) as error:
        # A file that is not one of DUO's, or cannot be read: one line, as ``vva refdata load`` says it.
        raise click.ClickException(f"{error}; cycle {jaar} not opened") from None
    tables = ", ".join(f"{t.total} {name}" for name, t in report.counts.items())
    if check.ended_gemeenten:
        click.echo(f"acknowledged as ended: gemeente {', '.join(check.ended_gemeenten)}")
    click.echo(
        f"cycle {jaar} opened (deadline {runtime.calendar.cyclus(jaar).deadline}); reference data: {tables}"
    )
