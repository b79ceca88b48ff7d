"""``vva audit …``: verify the chain, export a period, answer an inzageverzoek about one pupil."""

from __future__ import annotations

import sys
from datetime import date, timedelta

import click

from broker.audit import reader
from broker.audit.trail import OPERATOR, AuditEvent, record_event
from broker.audit.verify import check_anchor, verify_chain
from broker.db import models
from broker.db.migrate import upgrade
from broker.domain.identifiers import Leerlingnummer, parse_leerlingnummer
from broker.domain.meldingen import Rejection


@click.group()
def audit() -> None:
    """The AVG audit trail: verify, export, per pupil."""


@audit.command("verify")
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    metavar="N:HASH",
    help="A head printed by an earlier verify and kept outside the database; repeatable.",
)
@click.pass_obj
def verify(runtime, anchors: tuple[str, ...]) -> None:
    """Check the hash chain end to end; exit 1 and name the first broken record when it was altered.

    Prints the head ("N:HASH"): keep it outside the database (a ticket, the timer's log) and pass it
    to a later run with --anchor, which finds newest records deleted with the head set back — a change
    no check inside the database can see.
    """
    upgrade(runtime.engine)
    with runtime.sessions() as session:
        verdict = verify_chain(session)
        try:
            error = verdict.error or next(filter(None, (check_anchor(session, a) for a in anchors)), None)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--anchor") from None
    if error:
        click.echo(f"audit trail BROKEN after {verdict.record_count} intact records: {error}", err=True)
        raise SystemExit(1)
    click.echo(f"audit trail intact: {verdict.record_count} records; head {verdict.header}")


@audit.command("export")
@click.option("--from", "date_from", metavar="DATE", help="First day (YYYY-MM-DD, UTC), inclusive.")
@click.option("--to", "date_to", metavar="DATE", help="Last day (YYYY-MM-DD, UTC), inclusive.")
@click.option(
    "--format", "output_format", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "--out", "out", type=click.File("w", encoding="utf-8"), default="-", help="File; default stdout."
)
@click.pass_obj
def export(runtime, date_from: str | None, date_to: str | None, output_format: str, out) -> None:
    """Write the records of a period as CSV or JSON lines (no pupil numbers: counts only)."""
    limit_from = _day(date_from).isoformat() if date_from else None
    limit_until = (_day(date_to) + timedelta(days=1)).isoformat() if date_to else None
    upgrade(runtime.engine)
    with runtime.sessions() as session:
        count = reader.write(reader.records(session, limit_from, limit_until), output_format, out)
    click.echo(f"{count} records exported", err=True)


@audit.command("pupil")
@click.argument("bsn", required=False)
@click.option("--onderwijsnummer", help="For a pupil without a BSN.")
@click.option("--year", "jaar", type=int, help="Cycle (year of its deadline); default: the current one.")
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "jsonl"]), default="table")
@click.pass_obj
def pupil(
    runtime, bsn: str | None, onderwijsnummer: str | None, jaar: int | None, output_format: str
) -> None:
    """Who saw or changed what about one pupil in a cycle (AVG art. 15 inzageverzoek).

    Without BSN or --onderwijsnummer the number is asked for and not echoed: a number on the command
    line lands in the shell history, in ``ps`` and in sudo's log. It is never printed; the query itself
    is audited.
    """
    try:
        if bsn is None and onderwijsnummer is None:
            nummer = _ask_number()
        else:
            nummer = parse_leerlingnummer(bsn, onderwijsnummer)
    except Rejection as error:
        raise click.BadParameter(str(error)) from None
    jaar = jaar or runtime.calendar.cyclus_on(date.today()).jaar
    pseudonym = runtime.keyring.pseudonym(nummer)
    upgrade(runtime.engine)
    with runtime.sessions.begin() as session:
        if session.get(models.Cyclus, jaar) is None:
            # Nothing to find, and the question's own record would file the pupil's pseudonym under a
            # cycle no purge will ever close (a mistyped year).
            raise click.ClickException(f"cycle {jaar} never held any data; nothing to look up")
        found = reader.over_leerling(session, pseudonym, jaar)
        record_event(
            session,
            AuditEvent(
                OPERATOR,
                "vva audit pupil",
                "verwerkt",
                cyclus_jaar=jaar,
                leerlingen={pseudonym},
                record_count=len(found),
            ),
        )
    if output_format != "table":
        reader.write(iter(found), output_format, sys.stdout)
        return
    click.echo(f"cycle {jaar}: {len(found)} operations touched this pupil")
    for r in found:
        who = r.partij_oin or "operator"
        click.echo(
            f"{r.recorded_at}  {r.source:6} {who:20} {r.operation:28} {r.outcome:12} {r.message_id or ''}"
        )


def _ask_number() -> Leerlingnummer:
    """The pupil number typed at a hidden prompt: a BSN, else an onderwijsnummer (their check digits
    never both fit one number). Raises ``Rejection`` when it is neither."""
    entered = click.prompt("BSN or onderwijsnummer (not shown)", hide_input=True)
    try:
        return parse_leerlingnummer(entered, None)
    except Rejection:
        return parse_leerlingnummer(None, entered)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None
