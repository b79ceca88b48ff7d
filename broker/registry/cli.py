"""``vva party``: manage the party registry (add, list, remove, load a file, load the demo parties).

Every command brings the schema up to date first (idempotent) and then works in one transaction, so a
refused command changes nothing. Errors are one line on stderr with exit status 2, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import date
from importlib import resources
from typing import NoReturn, TypeVar

import click
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from broker.bootstrap import Runtime
from broker.db.migrate import upgrade
from broker.domain.visibility import PartijSoort
from broker.refdata.lookup import active_brins, known_brins, later_refdata_years, refdata_year
from broker.registry.repository import PartijRegistry
from broker.registry.toml import load_partijen, read_partijen
from broker.registry.validation import MandaatInput, PartijError, PartijInput

DEMO_FILE = "demo-partijen.toml"

T = TypeVar("T")


@click.group()
def party() -> None:
    """The party registry: OINs, scopes, mandates, endpoints."""


@party.command("add")
@click.option("--oin", required=True, help="OIN of the party: 20 characters 0-9 and A-Z.")
@click.option("--kind", "soort", required=True, help=f"Kind: {', '.join(s.value for s in PartijSoort)}.")
@click.option("--name", "naam", required=True, help="Name of the party.")
@click.option(
    "--brin",
    "brins",
    multiple=True,
    help="BRIN4 it acts for (repeatable). For a regionaal-systeem: a BRIN it serves, a VO school whose "
    "pupils it passes on (aanleverenLeerlingen on the regio service; other BRINs get DK0002 per record) "
    "or an MBO institution whose registrations it delivers.",
)
@click.option("--gemeente", "gemeentecodes", multiple=True, help="CBS gemeentecode it acts for (repeatable).")
@click.option(
    "--rmc",
    "rmc_regios",
    multiple=True,
    help="RMC region it acts for (repeatable). A gemeente with a region is that region's RMC function: "
    "its overview covers the residents of every gemeente of the region.",
)
@click.option("--endpoint", default=None, help="https URL for pushes to this party.")
@click.option(
    "--mandaat", "mandaten", multiple=True, metavar="CERT_OIN", help="Certificate OIN that may speak for it."
)
@click.option(
    "--contact-email", default=None, help="Institution's contact e-mail for this exchange (not a person's)."
)
@click.option("--contact-telefoon", default=None, help="Phone number shown instead of DUO's.")
@click.option(
    "--contact-internet",
    "contact_internetadres",
    default=None,
    help="Internet address shown instead of DUO's.",
)
@click.option(
    "--contactgegevens/--geen-contactgegevens",
    "contactgegevens",
    default=False,
    show_default=True,
    help="Whether its software accepts the optional contactgegevens element in answers and pushes "
    "(a client validating against the schema as it was before would refuse it; xsd/README.md).",
)
@click.option(
    "--procesfeiten/--geen-procesfeiten",
    "procesfeiten",
    default=False,
    show_default=True,
    help="Whether its software accepts the optional intake, onderwijsovereenkomstDatum and "
    "examenresultaat elements in answers and pushes (issue 16; xsd/README.md).",
)
@click.option("--replace", "replace", is_flag=True, help="Replace the party if it exists.")
@click.pass_obj
def add(
    runtime: Runtime,
    oin: str,
    soort: str,
    naam: str,
    brins: tuple[str, ...],
    gemeentecodes: tuple[str, ...],
    rmc_regios: tuple[str, ...],
    endpoint: str | None,
    mandaten: tuple[str, ...],
    contact_email: str | None,
    contact_telefoon: str | None,
    contact_internetadres: str | None,
    contactgegevens: bool,
    procesfeiten: bool,
    replace: bool,
) -> None:
    """Register one party (mandates given here have no end date; use a file for dated mandates)."""
    input_ = PartijInput(
        oin=oin,
        soort=soort,
        naam=naam,
        brins=brins,
        gemeentecodes=gemeentecodes,
        rmc_regios=rmc_regios,
        mandaten=tuple(MandaatInput(certificaat_oin=m) for m in mandaten),
        endpoint=endpoint,
        contact_email=contact_email,
        contact_telefoon=contact_telefoon,
        contact_internetadres=contact_internetadres,
        contactgegevens=contactgegevens,
        procesfeiten=procesfeiten,
    )

    def work(session: Session) -> None:
        earlier = _brins_per_partij(runtime, session)
        _register(runtime, session).add(input_, replace=replace)
        _require_known_brins(runtime, session, {oin}, earlier)

    _in_transaction(runtime, work)
    click.echo(f"party {oin} {'stored' if replace else 'added'}")


@party.command("list")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def list_(runtime: Runtime, output_format: str) -> None:
    """Show every registered party with its scope, mandates and endpoint."""
    partijen = _in_transaction(runtime, lambda session: _register(runtime, session).list_())
    click.echo(_as_json(partijen) if output_format == "json" else _as_table(partijen))


@party.command("remove")
@click.argument("oin")
@click.pass_obj
def remove(runtime: Runtime, oin: str) -> None:
    """Remove a party, and withdraw every mandate other parties gave to its OIN."""
    withdrawn = _in_transaction(runtime, lambda session: _register(runtime, session).remove(oin))
    extra = f"; {withdrawn} mandate(s) given to it withdrawn" if withdrawn else ""
    click.echo(f"party {oin} removed{extra}")


@party.command("load")
@click.argument("file")
@click.option("--no-replace", "not_replaced", is_flag=True, help="Refuse the file if a party in it exists.")
@click.pass_obj
def load(runtime: Runtime, file: str, not_replaced: bool) -> None:
    """Load all parties of a TOML file, all or nothing (format: see broker/registry/toml.py)."""
    count = _load(runtime, file, replace=not not_replaced)
    click.echo(f"{count} parties loaded from {file}")


@party.command("demo")
@click.pass_obj
def demo(runtime: Runtime) -> None:
    """Load the fictional demo parties (test OINs; refused in production)."""
    if _production(runtime):
        _stop("the demo parties use test OINs and are refused with environment = production")
    with resources.as_file(resources.files("broker.registry") / DEMO_FILE) as path:
        count = _load(runtime, str(path), replace=True)
    click.echo(f"{count} demo parties loaded")


# --- helpers -----------------------------------------------------------------------------------------------


def _production(runtime: Runtime) -> bool:
    return runtime.settings.environment == "production"


def _register(runtime: Runtime, session: Session) -> PartijRegistry:
    return PartijRegistry(session, production=_production(runtime))


def _load(runtime: Runtime, path: str, replace: bool) -> int:
    def work(session: Session) -> int:
        earlier = _brins_per_partij(runtime, session)
        count = load_partijen(session, path, replace=replace, production=_production(runtime))
        oins = {p.oin for p in read_partijen(path, production=_production(runtime))}
        _require_known_brins(runtime, session, oins, earlier, f"{path}: ")
        return count

    return _in_transaction(runtime, work)


#: Parties that are a school or institution themselves: their BRINs must be in the reference data.
_EDUCATION_SOORTEN = {PartijSoort.VO_SCHOOL.value, PartijSoort.MBO_INSTELLING.value}


def _brins_per_partij(runtime: Runtime, session: Session) -> dict[str, set[str]]:
    return {p.oin: set(p.brins) for p in _register(runtime, session).list_()}


def _require_known_brins(
    runtime: Runtime,
    session: Session,
    oins: Collection[str],
    earlier: dict[str, set[str]],
    place: str = "",
) -> None:
    """Refuse (``PartijError``, so the transaction rolls back) a VO, (V)SO or MBO party of ``oins`` whose
    BRIN is not an active institution in the current cycle's DUO reference data (issue 15).

    A BRIN the party already had (``earlier``: OIN -> BRINs before the command) may have ended in this
    cycle: the institution is still in the reference data, marked ended, and its pupils are still in the
    exchange, so re-storing its party (the routine reload of the registry file) must not fail."""
    jaar = runtime.calendar.cyclus_on(date.today()).jaar
    for partij in _register(runtime, session).list_():
        if partij.oin not in oins or partij.soort not in _EDUCATION_SOORTEN or not partij.brins:
            continue
        already_registered = set(partij.brins) & earlier.get(partij.oin, set())
        allowed = active_brins(session, jaar, partij.brins) | known_brins(
            session, jaar, already_registered
        )
        # A school that is new in the files of a next cycle already opened may be registered now.
        for later in later_refdata_years(session, jaar):
            allowed |= active_brins(session, later, partij.brins)
        unknown = sorted(set(partij.brins) - allowed)
        if unknown and refdata_year(session, jaar) is None:
            raise PartijError(
                f"{place}party {partij.oin}: BRIN {', '.join(unknown)} cannot be checked: no reference data "
                f"loaded for cycle {jaar}: load the DUO reference data first (vva refdata load, "
                "vva cycle open --refdata; for the fictional demo parties: vva refdata demo)"
            )
        if unknown:
            raise PartijError(
                f"{place}party {partij.oin}: BRIN {', '.join(unknown)} is no active VO, (V)SO or MBO "
                f"institution in the reference data of cycle {jaar}: check the BRIN against DUO's files "
                "(vva refdata show --brin X); the fictional demo BRINs need the demo reference data "
                "(vva refdata demo)"
            )


def _in_transaction(runtime: Runtime, work: Callable[[Session], T]) -> T:
    """Bring the schema up to date, then run ``work`` in one transaction; any error ends the command."""
    try:
        upgrade(runtime.engine)
        with runtime.sessions.begin() as session:
            return work(session)
    except PartijError as e:
        _stop(str(e))
    except CommandError as e:
        _stop(f"database schema: {e}")
    except SQLAlchemyError as e:
        # The driver's first line names the problem; the rest (SQL, parameters, links) is noise here.
        cause = getattr(e, "orig", None) or e
        _stop(f"database error: {str(cause).strip()}")


def _stop(message: str) -> NoReturn:
    """Print ``message`` as one line on stderr and exit with status 2 (no traceback)."""
    line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    click.echo(f"error: {line}", err=True)
    raise SystemExit(2)


def _scope_text(partij: PartijInput) -> str:
    parts = [
        f"{name}:{','.join(codes)}"
        for name, codes in (
            ("brin", partij.brins),
            ("gemeente", partij.gemeentecodes),
            ("rmc", partij.rmc_regios),
        )
        if codes
    ]
    return " ".join(parts) or "-"


def _mandaat_text(mandaat: MandaatInput) -> str:
    if mandaat.geldig_van is None and mandaat.geldig_tot is None:
        return mandaat.certificaat_oin
    valid_from = mandaat.geldig_van.isoformat() if mandaat.geldig_van else ""
    valid_until = mandaat.geldig_tot.isoformat() if mandaat.geldig_tot else ""
    return f"{mandaat.certificaat_oin} ({valid_from}..{valid_until})"


def _as_table(partijen: list[PartijInput]) -> str:
    if not partijen:
        return "no parties registered"
    header = ("OIN", "SOORT", "NAAM", "SCOPE", "MANDATES", "ENDPOINT", "CONTACTGEGEVENS", "PROCESFEITEN")
    rows = [
        (
            p.oin,
            p.soort,
            p.naam,
            _scope_text(p),
            ", ".join(_mandaat_text(m) for m in p.mandaten) or "-",
            p.endpoint or "-",
            "yes" if p.contactgegevens else "no",
            "yes" if p.procesfeiten else "no",
        )
        for p in partijen
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    # rstrip: no trailing blanks after the last column.
    return "\n".join(
        "  ".join(cell.ljust(b) for cell, b in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    )


def _as_json(partijen: list[PartijInput]) -> str:
    return json.dumps(
        [
            {
                "oin": p.oin,
                "soort": p.soort,
                "naam": p.naam,
                "brins": list(p.brins),
                "gemeentecodes": list(p.gemeentecodes),
                "rmc_regios": list(p.rmc_regios),
                "mandaten": [
                    {
                        "certificaat_oin": m.certificaat_oin,
                        "geldig_van": m.geldig_van.isoformat() if m.geldig_van else None,
                        "geldig_tot": m.geldig_tot.isoformat() if m.geldig_tot else None,
                    }
                    for m in p.mandaten
                ],
                "endpoint": p.endpoint,
                "contact_email": p.contact_email,
                "contact_telefoon": p.contact_telefoon,
                "contact_internetadres": p.contact_internetadres,
                "contactgegevens": p.contactgegevens,
                "procesfeiten": p.procesfeiten,
            }
            for p in partijen
        ],
        ensure_ascii=False,
        indent=2,
    )
