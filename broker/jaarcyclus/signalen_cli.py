"""``vva signals run``: the daily signal job (safe to run from a timer; idempotent)."""

from __future__ import annotations

import csv
from datetime import date

import click

from broker.audit.trail import OPERATOR, AuditEvent, record_event
from broker.db.migrate import upgrade
from broker.jaarcyclus.close import lock_cyclus
from broker.service.context import Processing
from broker.service.signalen import moment_of, raise_signalen


@click.group()
def signals() -> None:
    """Signals to schools and institutions (not registered after the deadline; no exchange yet)."""


@signals.command("run")
@click.option(
    "--date", "peildatum", type=click.DateTime(["%Y-%m-%d"]), help="Run as of this day (default today)."
)
@click.option(
    "--report", "rapport", type=click.Path(dir_okay=False), help="Write the operator report (CSV) here."
)
@click.option(
    "--allow-future",
    is_flag=True,
    help='Accept a --date after today with environment = "production" (always accepted in test).',
)
@click.pass_obj
def run(runtime, peildatum, rapport: str | None, allow_future: bool) -> None:
    """Create today's signals that do not exist yet, queue pushes, print the operator report.

    After the deadline: one signal to each VO school per pupil of theirs registered nowhere. From
    ``signaal_lead_days`` (default 14) days before the deadline: one signal to each VO school and
    MBO institution that exchanged no data yet this cycle. A second run the same day creates nothing.
    """
    day = peildatum.date() if peildatum else date.today()
    if day > date.today() and runtime.settings.production and not allow_future:
        # A mistyped year would signal (and push to) every party as if the deadline had passed.
        raise click.ClickException(
            f"--date {day} is in the future; signals for it would reach parties now. "
            "Refused in production; add --allow-future if that is what you mean"
        )
    upgrade(runtime.engine)
    jaar = runtime.calendar.cyclus_on(day).jaar
    with runtime.sessions.begin() as session:
        cyclus = lock_cyclus(session, jaar)  # a close in progress finishes first
        if cyclus is not None and cyclus.gesloten_op is not None:
            # Its data are gone: every party would look silent and be signalled for nothing.
            raise click.ClickException(
                f"cycle {jaar} was closed on {cyclus.gesloten_op:%Y-%m-%d}; it has no signals any more"
            )
        processing = Processing(session, runtime.keyring, runtime.calendar, now=moment_of(day))
        run_round = raise_signalen(processing, runtime.settings.signaal_lead_days)
        event = AuditEvent(
            OPERATOR,
            "vva signals run",
            "verwerkt",
            cyclus_jaar=run_round.cyclus_jaar,
            leerlingen=processing.involved,
            record_count=run_round.total,
        )
        record_event(session, event)  # when it really ran, whatever day it acted as of
    phase = {
        "voor-voorloop": "before the signal period",
        "voorloop": "signal period before the deadline",
        "na-deadline": "after the deadline",
    }[run_round.phase]
    click.echo(
        f"cycle {run_round.cyclus_jaar} (deadline {run_round.deadline}), {day}: {phase}; "
        f"{run_round.total} new signals to {len({oin for oin, _ in run_round.new})} parties, {run_round.pushes} pushes queued"
    )
    for (oin, soort), aantal in sorted(run_round.new.items()):
        click.echo(f"  {oin}  {soort:26} {aantal}")
    if run_round.phase == "voorloop":
        click.echo(f"parties that exchanged no data yet this cycle: {len(run_round.quiet)}")
        for quiet in run_round.quiet:
            click.echo(f"  {quiet.oin}  {quiet.soort:15} {','.join(quiet.brins):20} {quiet.naam}")
    if rapport:
        with open(rapport, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["oin", "soort", "brins", "naam"])
            for quiet in run_round.quiet:
                writer.writerow([quiet.oin, quiet.soort, " ".join(quiet.brins), quiet.naam])
