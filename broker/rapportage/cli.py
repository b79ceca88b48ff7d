"""``vva report``: the process and policy report of a school, a region or the country, as a file."""

from __future__ import annotations

from pathlib import Path

import click

from broker.audit.trail import OPERATOR, AuditEvent, record_event
from broker.bootstrap import Runtime
from broker.rapportage.cijfers import Level

_NIVEAUS = {"school": Level.SCHOOL, "regio": Level.REGIO, "landelijk": Level.LANDELIJK}


@click.command("report")
@click.option("--level", "niveau", type=click.Choice(list(_NIVEAUS)), required=True, help="Report level.")
@click.option("--brin", help="BRIN4 of the VO school (with --level school).")
@click.option("--rmc", help="RMC region code (with --level regio).")
@click.option("--year", "jaar", type=int, required=True, help="Cycle year (the year of its deadline).")
@click.option(
    "--date",
    "peildatum",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Peildatum, YYYY-MM-DD (default: today, or the cycle's last day). A closed cycle has only its last day.",
)
@click.option(
    "--format", "output_format", type=click.Choice(["html", "csv", "xlsx"]), default="html", show_default=True
)
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write."
)
@click.pass_obj
def report(
    runtime: Runtime,
    niveau: str,
    brin: str | None,
    rmc: str | None,
    jaar: int,
    peildatum,
    output_format: str,
    out: Path,
) -> None:
    """Write the process report of a VO school, an RMC region or the country for cycle YEAR.

    The figures are anonymous (counts of 1–4 suppressed, with the cells that would give them
    away); a closed cycle is read from its yearly aggregates. Exit status 2 with a message when the report cannot be made as asked.
    """
    from broker.rapportage.output import write
    from broker.rapportage.rapport import RapportError, make_rapport

    if (niveau == "school") != (brin is not None) or (niveau == "regio") != (rmc is not None):
        raise click.UsageError(
            "--brin belongs with --level school and --rmc with --level regio (and only there)"
        )
    eenheid = brin or rmc or ""
    try:
        with runtime.sessions() as session:
            rapport = make_rapport(
                session,
                runtime.calendar,
                _NIVEAUS[niveau],
                jaar,
                eenheid,
                peildatum.date() if peildatum else None,
            )
    except (RapportError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    write(rapport, output_format, out)
    with runtime.sessions.begin() as session:  # aggregates over personal data leave the system: traced
        operatie = f"vva report {niveau} {eenheid}".strip()
        record_event(session, AuditEvent(OPERATOR, operatie, "verwerkt", cyclus_jaar=jaar))
    click.echo(
        f"report: {out} ({output_format}, {niveau} {rapport.eenheid or 'NL'}, cycle {jaar}, peildatum {rapport.peildatum})"
    )
