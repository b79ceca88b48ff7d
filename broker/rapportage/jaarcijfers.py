"""The anonymous yearly aggregates of a cycle (table ``jaarcijfer``): computed just before the purge
of the cycle's personal data (``vva cycle close``, issue 5 part 4), read by the trend figures after it.

No row names a pupil, and no cell small enough to identify one leaves this module: a count of 1 to 4
is stored as NULL, and so is a median or percentile resting on fewer than 5 observations (primary
suppression); so are the complementary cells that keep those from being computed back out of the
totals, distributions and levels published with them (``suppress``, ``broker.rapportage.disclosure``,
docs/disclosure.md). A NULL is therefore "withheld", not "1 to 4". 0 is kept: it identifies nobody,
and a report needs to say "none fell back". The stored set is protected as one table over every level
(country, regions, schools, institutions), so any report read from it is protected too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from broker.db import models
from broker.domain.cycle import Calendar
from broker.domain.status import ACTIEF_AANGEMELD
from broker.errors import BrokerError
from broker.rapportage import cijfers as c
from broker.rapportage.cijfers import Cijfer, Level, Peil, compute_cijfers
from broker.rapportage.disclosure import Cell, Relation, protect
from broker.refdata.lookup import refdata_year_sql

#: The smallest count that may leave the system (issue 5 part 4, issue 7 part 1).
THRESHOLD = 5


class JaarcijfersExist(BrokerError):
    """The yearly aggregates of this cycle were stored before; they are never overwritten (the
    personal data they were computed from may be gone)."""


@dataclass(frozen=True)
class Jaarcijfer:
    """One anonymous aggregate: see ``models.Jaarcijfer``. ``waarde`` None = suppressed: a count of
    1 to 4, a median/percentile on fewer than 5, or a complementary cell of any size withheld so
    that no small count can be computed back."""

    jaar: int
    niveau: str
    eenheid: str
    cijfer: str
    dimensie: str
    waarde: int | None

    @property
    def cell_key(self) -> tuple[str, str, str, str]:
        return (self.niveau, self.eenheid, self.cijfer, self.dimensie)


#: Figures of issue 16 that cijfers.py gains in a separate change; named here (by their figure
#: names) so their relations are declared in this one place before they arrive.
INTAKES = getattr(c, "INTAKES", "intakes")
INTAKES_PER_UITKOMST = getattr(c, "INTAKES_PER_UITKOMST", "intakes_per_uitkomst")

#: Figures that are no counts (days), so in no sum; suppressed when they rest on fewer than 5.
NOT_ADDITIVE = frozenset({c.DOORLOOPTIJD_MEDIAAN, c.DOORLOOPTIJD_P90})

#: The relations within one unit, by the definitions in cijfers.py: (name, totals, parts,
#: distribution, its dimensions) — the sum of the totals (dimension "") == the sum of the scalar
#: parts (dimension "") + the distribution's cells (those of the given dimensions, None = all). A
#: relation is declared for a unit that has a cell of its distribution (a distribution no level
#: computes, e.g. per opleiding for a region, is not a set of zeros). ``doorlooptijd_n`` per
#: traject = its ``doorlooptijd_verdeling`` buckets is declared per traject present
#: (``_doorlooptijd_relations``), whatever the trajects.
#: All hold exactly, except "leerlingen = actief aangemeld + geleverd nergens": it fails only when
#: a pupil the school withdrew is still in the population through a withdrawn or refused
#: registration — on most schools' data it holds, and an outsider who subtracts is right
#: (issue 16: 7 pupils, 5 registered nowhere, so "<5" registered was 2); ``protect`` uses it where
#: it holds. Not declared (no equality): aangemeld voor/na against the statuses, teruggevallen,
#: diploma nergens aangemeld, aangemeld zonder levering, examenresultaat per uitkomst (no total).
WITHIN_EENHEID: tuple[
    tuple[str, tuple[str, ...], tuple[str, ...], str | None, frozenset[str] | None], ...
] = (
    ("leerlingen per status", (c.LEERLINGEN,), (), c.LEERLINGEN_PER_STATUS, None),
    (
        "leerlingen = actief aangemeld + geleverd nergens",
        (c.LEERLINGEN,),
        (c.GELEVERD_NERGENS,),
        c.LEERLINGEN_PER_STATUS,
        frozenset(ACTIEF_AANGEMELD),
    ),
    (
        "eerste aanmelding per week",
        (c.AANGEMELD_VOOR_DEADLINE, c.AANGEMELD_NA_DEADLINE),
        (),
        c.EERSTE_AANMELDING_PER_WEEK,
        None,
    ),
    ("aanmeldingen per status", (c.AANMELDINGEN,), (), c.AANMELDINGEN_PER_STATUS, None),
    ("aanmeldingen per week", (c.AANMELDINGEN,), (), c.AANMELDINGEN_PER_WEEK, None),
    ("aanmeldingen per opleiding", (c.AANMELDINGEN,), (), c.AANMELDINGEN_PER_OPLEIDING, None),
    (
        "aanmeldingen voor/na deadline",
        (c.AANMELDINGEN,),
        (c.AANMELDINGEN_VOOR_DEADLINE, c.AANMELDINGEN_NA_DEADLINE),
        None,
        None,
    ),
    ("intakes per uitkomst", (INTAKES,), (), INTAKES_PER_UITKOMST, None),
)

#: Region code → the BRINs (VO schools and MBO institutions) in it, for the relations between a
#: region's figure and the sum of its units' figures.
Indeling = dict[str, list[str]]
CellKey = tuple[str, str, str, str]


def suppress(jaar: int, cijfers: Iterable[Cijfer], indeling: Indeling | None = None) -> list[Jaarcijfer]:
    """The figures as they may leave the system, as one published table: ``waarde`` None for a
    count of 1 to 4 and a median or percentile on fewer than 5 observations (primary), and for
    the complementary cells ``disclosure.protect`` picks so that none of them can be computed back
    from the others (``relations``). Call it on exactly the figures that are published together."""
    cijfers = list(cijfers)
    cells = [Cell(_key(f), f.waarde, 0 < f.base < THRESHOLD, _insider(f)) for f in cijfers]
    suppressed = protect(cells, relations(cijfers, indeling))
    return [
        Jaarcijfer(
            jaar, f.niveau.value, f.eenheid, f.cijfer, f.dimensie, None if _key(f) in suppressed else f.waarde
        )
        for f in cijfers
    ]


def _insider(f: Cijfer) -> tuple[str, str] | None:
    """Who knows the figure without any publication: the school, institution or region it is
    of (it counts its own pupils); nobody for the country's."""
    return None if f.niveau == Level.LANDELIJK else (Level(f.niveau).value, f.eenheid)


def _key(f: Cijfer) -> CellKey:
    return (Level(f.niveau).value, f.eenheid, f.cijfer, f.dimensie)


def relations(cijfers: Iterable[Cijfer], indeling: Indeling | None = None) -> list[Relation]:
    """Every additive relation an outsider may use on ``cijfers`` published together: within each
    unit (``WITHIN_EENHEID``, lead-time buckets) and between levels — the country against the sum
    of its regions (of its schools, of its institutions), a region of ``indeling`` against the sum
    of its schools and of its institutions, per figure and dimension. The ones between levels hold
    only on some data (a pupil delivered by two schools counts once in the region; the country
    counts pupils without a school): ``protect`` uses a relation only where it holds."""
    keys = {_key(f) for f in cijfers}
    by_eenheid: dict[tuple[str, str], set[CellKey]] = defaultdict(set)
    for k in keys:
        by_eenheid[k[:2]].add(k)
    found: list[Relation] = []
    for eenheid, own in sorted(by_eenheid.items()):
        found += _within_eenheid(eenheid, own)
        found += _doorlooptijd_relations(eenheid, own)
    found += _between_niveaus(keys, by_eenheid, indeling or {})
    return found


def _within_eenheid(eenheid: tuple[str, str], own: set[CellKey]) -> list[Relation]:
    found = []
    for name, totals, parts, distribution, dimensies in WITHIN_EENHEID:
        cells = sorted(k for k in own if k[2] == distribution)
        if distribution is not None and not cells:
            continue
        if dimensies is not None:
            cells = [k for k in cells if k[3] in dimensies]
        if any(d != "" and (*eenheid, d, "") not in own for d in parts):
            continue  # a part not published with it (opvragenProcescijfers of a school)
        if distribution is None and not any(k[2] in totals + parts for k in own):
            continue
        found.append(
            Relation(
                tuple((*eenheid, t, "") for t in totals),
                tuple((*eenheid, d, "") for d in parts) + tuple(cells),
                name,
            )
        )
    return found


def _doorlooptijd_relations(eenheid: tuple[str, str], own: set[CellKey]) -> list[Relation]:
    """``doorlooptijd_n`` of a traject = the sum of its buckets (dimension "<traject> <bucket>")."""
    found = []
    for k in sorted(k for k in own if k[2] == c.DOORLOOPTIJD_N):
        buckets = sorted(b for b in own if b[2] == c.DOORLOOPTIJD_VERDELING and b[3].split(" ")[0] == k[3])
        if buckets:
            found.append(Relation((k,), tuple(buckets), f"doorlooptijd {k[3]}"))
    return found


def _between_niveaus(
    keys: set[CellKey], by_eenheid: dict[tuple[str, str], set[CellKey]], indeling: Indeling
) -> list[Relation]:
    eenheden: dict[str, list[str]] = defaultdict(list)
    for niveau, eenheid in sorted(by_eenheid):
        eenheden[niveau].append(eenheid)
    pairs = [
        ((Level.LANDELIJK.value, ""), sub, eenheden[sub])
        for sub in (Level.REGIO.value, Level.SCHOOL.value, Level.INSTELLING.value)
    ]
    for regio, brins in sorted(indeling.items()):
        for sub in (Level.SCHOOL.value, Level.INSTELLING.value):
            pairs.append(((Level.REGIO.value, regio), sub, [e for e in eenheden[sub] if e in set(brins)]))
    found = []
    for above, sub, below in pairs:
        if above not in by_eenheid or not below:
            continue
        figures = sorted({k[2:] for e in below for k in by_eenheid[(sub, e)] if k[2] not in NOT_ADDITIVE})
        for cijfer, dimensie in figures:
            found.append(
                Relation(
                    ((*above, cijfer, dimensie),),
                    tuple((sub, e, cijfer, dimensie) for e in below),
                    f"{above[0]} {above[1]} = som {sub}",
                )
            )
    return found


def regio_indeling(session: Session, jaar: int) -> Indeling:
    """The VO schools and MBO institutions of each RMC region in cycle ``jaar``'s reference data
    (the units a region report shows next to the region)."""
    i = models.Instelling
    indeling: Indeling = defaultdict(list)
    for brin, regio in session.execute(
        select(i.brin, i.rmc_regio).where(i.cyclus_jaar == refdata_year_sql(jaar), i.rmc_regio.is_not(None))
    ):
        indeling[regio].append(brin)
    return dict(indeling)


def compute_jaarcijfers(session: Session, jaar: int, calendar: Calendar) -> list[Jaarcijfer]:
    """The yearly aggregates of cycle ``jaar`` on the cycle's last day, at every level (landelijk,
    per VO school, per MBO institution, per RMC region), suppressed. Pure: it reads, and writes
    nothing that outlives the call (the computation's temporary tables are dropped before it returns).

    Input: an open session on the broker's database, the cycle year, the calendar (deadline).
    Output: Jaarcijfer rows, sorted. Source rule: issue 5 part 4 (counts per status per school,
    region and week, before/after the deadline, fallbacks after the deadline, lead-time
    distributions; no pupil-level rows, no cell below 5).
    """
    cijfers = compute_cijfers(session, Peil.of(calendar, jaar))
    return suppress(jaar, cijfers, regio_indeling(session, jaar))


def store_jaarcijfers(session: Session, jaar: int, calendar: Calendar) -> int:
    """Compute the yearly aggregates of cycle ``jaar`` and insert them into ``jaarcijfer`` in the
    caller's transaction (the caller commits, before it purges). Returns the number of rows.

    Raises ``JaarcijfersExist`` when rows for ``jaar`` exist already: closing twice must not
    replace the figures of a purged cycle with figures of nothing.
    """
    if stored_years(session, [jaar]):
        raise JaarcijfersExist(
            f"de jaarcijfers van cyclus {jaar} zijn al bewaard; ze worden nooit overschreven"
        )
    rows = compute_jaarcijfers(session, jaar, calendar)
    now = datetime.now(UTC)
    if rows:
        session.execute(
            insert(models.Jaarcijfer),
            [
                {
                    "jaar": r.jaar,
                    "niveau": r.niveau,
                    "eenheid": r.eenheid,
                    "cijfer": r.cijfer,
                    "dimensie": r.dimensie,
                    "waarde": r.waarde,
                    "berekend_op": now,
                }
                for r in rows
            ],
        )
    return len(rows)


def stored_years(session: Session, years: Collection[int] | None = None) -> set[int]:
    """The cycle years with stored aggregates (of ``years``, or all)."""
    q = select(models.Jaarcijfer.jaar).group_by(models.Jaarcijfer.jaar)
    if years is not None:
        q = q.where(models.Jaarcijfer.jaar.in_(list(years)))
    return set(session.scalars(q))


def read_jaarcijfers(
    session: Session, jaar: int, niveau: Level | None = None, eenheden: Collection[str] | None = None
) -> list[Jaarcijfer]:
    """The stored aggregates of ``jaar``, optionally of one level and some units, sorted."""
    t = models.Jaarcijfer
    q = select(t.jaar, t.niveau, t.eenheid, t.cijfer, t.dimensie, t.waarde).where(t.jaar == jaar)
    if niveau is not None:
        q = q.where(t.niveau == niveau.value)
    if eenheden is not None:
        q = q.where(t.eenheid.in_(list(eenheden)))
    q = q.order_by(t.niveau, t.eenheid, t.cijfer, t.dimensie)
    return [Jaarcijfer(*row) for row in session.execute(q)]
