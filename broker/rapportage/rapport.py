"""One report's content: the suppressed figures of a level and unit, its sub-units and its trend.

Levels (issue 7 part 2): ``school`` (a VO school, level 1), ``regio`` (an RMC region with its VO
schools and MBO institutions, level 2), ``landelijk`` (with every region, level 3). An open cycle is
computed from its history on the peildatum; a cycle whose yearly aggregates are stored (closed) is
read from them, on the cycle's last day only.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.db import models
from broker.domain.cycle import Calendar
from broker.domain.visibility import normalise_rmc
from broker.errors import BrokerError
from broker.rapportage.cijfers import Level, Peil, compute_cijfers
from broker.rapportage.jaarcijfers import (
    Jaarcijfer,
    read_jaarcijfers,
    regio_indeling,
    stored_years,
    suppress,
)
from broker.rapportage.trends import Trend, trend
from broker.refdata.lookup import refdata_year_sql


class RapportError(BrokerError, ValueError):
    """The report cannot be made as asked; the text says why (for the operator, no personal data)."""


@dataclass(frozen=True)
class Rapport:
    """The figures of one report. ``cijfers`` holds every figure in scope (the unit and its
    sub-units), suppressed as one table; ``waarde`` None means suppressed (a count of 1–4, or a
    complementary cell withheld so that none can be computed back), a missing key means no
    observations."""

    niveau: Level
    eenheid: str
    naam: str
    jaar: int
    deadline: date
    peildatum: date
    from_jaarcijfers: bool
    cijfers: list[Jaarcijfer]
    trend: Trend
    names: dict[str, str] = field(default_factory=dict)  # BRIN / RMC code → name, for tables

    def of(self, niveau: Level, eenheid: str) -> dict[tuple[str, str], int | None]:
        return {
            (r.cijfer, r.dimensie): r.waarde
            for r in self.cijfers
            if r.niveau == niveau and r.eenheid == eenheid
        }

    @property
    def head(self) -> dict[tuple[str, str], int | None]:
        """The figures of the report's own unit."""
        return self.of(self.niveau, self.eenheid)

    def eenheden(self, niveau: Level) -> list[str]:
        # RMC codes in numeric order (2 before 10), BRINs alphabetically.
        return sorted(
            {r.eenheid for r in self.cijfers if r.niveau == niveau},
            key=lambda e: (0, int(e), "") if e.isdigit() else (1, 0, e),
        )


def make_rapport(
    session: Session,
    calendar: Calendar,
    niveau: Level,
    jaar: int,
    eenheid: str = "",
    peildatum: date | None = None,
) -> Rapport:
    """Gather the figures of a report. ``eenheid``: the BRIN4 of a VO school, the RMC code of a
    region, '' for landelijk. ``peildatum`` (default: today, or the cycle's last day if that is
    earlier) must lie in the cycle; one after today shows what is known today.

    Raises ``RapportError`` for an unknown unit, a peildatum outside the cycle, or a
    peildatum other than the last day for a closed cycle (only its yearly aggregates are left).
    """
    cyclus = calendar.cyclus(jaar)
    eenheid = _eenheid(niveau, eenheid)
    closed = jaar in stored_years(session, [jaar])
    if closed:
        if peildatum not in (None, cyclus.end):
            raise RapportError(
                f"cycle {jaar} is closed: only its yearly figures on {cyclus.end} are left, no figures on {peildatum}"
            )
        peildatum = cyclus.end
    peildatum = peildatum or min(date.today(), cyclus.end)
    if not cyclus.contains(peildatum):
        raise RapportError(f"peildatum {peildatum} is not in cycle {jaar} ({cyclus.begin} to {cyclus.end})")
    scope = _range(session, jaar, niveau, eenheid)
    if closed:
        cijfers = [r for n, e in scope.items() for r in read_jaarcijfers(session, jaar, n, e)]
    else:
        peil = Peil(jaar, cyclus.deadline, peildatum)
        # Cut from the one table of every level on this day, protected as the yearly aggregates
        # are: reports of different units then withhold the same cells, so putting a school's,
        # its region's and the country's report side by side computes nothing back either.
        all_ = compute_cijfers(session, peil)
        cijfers = [r for r in suppress(jaar, all_, regio_indeling(session, jaar)) if _in_range(r, scope)]
    if not any(r.niveau == niveau and r.eenheid == eenheid for r in cijfers):
        raise RapportError(f"no figures for {niveau.value} {eenheid or 'Nederland'} in cycle {jaar}")
    names = _names(session, jaar)
    return Rapport(
        niveau=niveau,
        eenheid=eenheid,
        naam=names.get(eenheid, "Nederland") if eenheid else "Nederland",
        jaar=jaar,
        deadline=cyclus.deadline,
        peildatum=peildatum,
        from_jaarcijfers=closed,
        cijfers=cijfers,
        trend=trend(session, calendar, niveau, eenheid, jaar),
        names=names,
    )


def _eenheid(niveau: Level, eenheid: str) -> str:
    if niveau is Level.LANDELIJK:
        return ""
    if niveau is Level.REGIO:
        try:
            return normalise_rmc(eenheid)
        except ValueError:
            raise RapportError("--rmc must be an RMC-regio code (1 or 2 digits)") from None
    if not eenheid or len(eenheid) != 4:
        raise RapportError("--brin must be a BRIN4, e.g. 99XA")
    return eenheid.upper()


def _in_range(r: Jaarcijfer, scope: dict[Level, Collection[str] | None]) -> bool:
    niveau = Level(r.niveau)
    return niveau in scope and (scope[niveau] is None or r.eenheid in scope[niveau])


def _range(session: Session, jaar: int, niveau: Level, eenheid: str) -> dict[Level, Collection[str] | None]:
    """The levels and units a report shows: its own unit and the units in it (by the cycle's regions)."""
    if niveau is Level.SCHOOL:
        return {Level.SCHOOL: [eenheid]}
    if niveau is Level.LANDELIJK:
        return {Level.LANDELIJK: [""], Level.REGIO: None}
    i = models.Instelling
    in_regio = session.execute(
        select(i.brin, i.sector).where(i.cyclus_jaar == refdata_year_sql(jaar), i.rmc_regio == eenheid)
    ).all()
    return {
        Level.REGIO: [eenheid],
        Level.SCHOOL: [brin for brin, sector in in_regio if sector == "vo"],
        Level.INSTELLING: [brin for brin, sector in in_regio if sector == "mbo"],
    }


def _names(session: Session, jaar: int) -> dict[str, str]:
    i, r = models.Instelling, models.RmcRegio
    names = dict(
        session.execute(select(i.brin, i.naam).where(i.cyclus_jaar == refdata_year_sql(jaar))).tuples().all()
    )
    names |= dict(
        session.execute(select(r.code, r.naam).where(r.cyclus_jaar == refdata_year_sql(jaar))).tuples().all()
    )
    return names
