"""The anonymous yearly aggregates of a cycle (table ``jaarcijfer``): computed just before the purge
of the cycle's personal data (``vva cycle close``, issue 5 part 4), read by the trend figures after it.

No row names a pupil, and no cell small enough to identify one leaves this module: a count of 1 to 4
is stored as NULL (``onderdruk``), and so is a median or percentile resting on fewer than 5
observations; in a distribution a lone suppressed cell takes a second one with it. 0 is kept: it
identifies nobody, and a report needs to say "none fell back". Differences between levels (a
country minus all but one region) are not protected against; the smallest unit is a school.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from broker.db import models
from broker.domain.cycle import Kalender
from broker.rapportage import cijfers as c
from broker.rapportage.cijfers import Cijfer, Niveau, Peil, bereken_cijfers

#: The smallest count that may leave the system (issue 5 part 4, issue 7 part 1).
DREMPEL = 5


class JaarcijfersBestaanAl(Exception):
    """The yearly aggregates of this cycle were stored before; they are never overwritten (the
    personal data they were computed from may be gone)."""


@dataclass(frozen=True)
class Jaarcijfer:
    """One anonymous aggregate: see ``models.Jaarcijfer``. ``waarde`` None = suppressed."""

    jaar: int
    niveau: str
    eenheid: str
    cijfer: str
    dimensie: str
    waarde: int | None

    @property
    def sleutel(self) -> tuple[str, str, str, str]:
        return (self.niveau, self.eenheid, self.cijfer, self.dimensie)


#: Distributions whose cells add up to a published total: one suppressed cell among them could be
#: recovered by subtraction, so a second one is suppressed with it.
VERDELINGEN = frozenset(
    {
        c.LEERLINGEN_PER_STATUS,
        c.AANMELDINGEN_PER_STATUS,
        c.AANMELDINGEN_PER_OPLEIDING,
        c.EERSTE_AANMELDING_PER_WEEK,
        c.AANMELDINGEN_PER_WEEK,
        c.DOORLOOPTIJD_VERDELING,
    }
)


def onderdruk(jaar: int, cijfers: Iterable[Cijfer]) -> list[Jaarcijfer]:
    """The figures as they may leave the system: ``waarde`` None where ``basis`` is 1 to 4
    (primary suppression), and in a distribution (``VERDELINGEN``) with exactly one such cell also
    the smallest other non-zero cell (secondary suppression), so no cell follows from the total."""
    cijfers = list(cijfers)
    weg = {i for i, f in enumerate(cijfers) if 0 < f.basis < DREMPEL}
    groepen: dict[tuple, list[int]] = defaultdict(list)
    for i, f in enumerate(cijfers):
        if f.cijfer in VERDELINGEN:
            traject = f.dimensie.split(" ")[0] if f.cijfer == c.DOORLOOPTIJD_VERDELING else ""
            groepen[(f.niveau, f.eenheid, f.cijfer, traject)].append(i)
    for leden in groepen.values():
        zichtbaar = [i for i in leden if i not in weg and cijfers[i].waarde > 0]
        if len([i for i in leden if i in weg]) == 1 and zichtbaar:
            weg.add(min(zichtbaar, key=lambda i: (cijfers[i].waarde, cijfers[i].dimensie)))
    return [
        Jaarcijfer(jaar, f.niveau.value, f.eenheid, f.cijfer, f.dimensie, None if i in weg else f.waarde)
        for i, f in enumerate(cijfers)
    ]


def bereken_jaarcijfers(session: Session, jaar: int, kalender: Kalender) -> list[Jaarcijfer]:
    """The yearly aggregates of cycle ``jaar`` on the cycle's last day, at every level (landelijk,
    per VO school, per MBO institution, per RMC region), suppressed. Pure: it reads, and writes
    nothing that outlives the call (the computation's temporary tables are dropped before it returns).

    Input: an open session on the broker's database, the cycle year, the calendar (deadline).
    Output: Jaarcijfer rows, sorted. Source rule: issue 5 part 4 (counts per status per school,
    region and week, before/after the deadline, fallbacks after the deadline, lead-time
    distributions; no pupil-level rows, no cell below 5).
    """
    return onderdruk(jaar, bereken_cijfers(session, Peil.van(kalender, jaar)))


def bewaar_jaarcijfers(session: Session, jaar: int, kalender: Kalender) -> int:
    """Compute the yearly aggregates of cycle ``jaar`` and insert them into ``jaarcijfer`` in the
    caller's transaction (the caller commits, before it purges). Returns the number of rows.

    Raises ``JaarcijfersBestaanAl`` when rows for ``jaar`` exist already: closing twice must not
    replace the figures of a purged cycle with figures of nothing.
    """
    if bewaarde_jaren(session, [jaar]):
        raise JaarcijfersBestaanAl(
            f"de jaarcijfers van cyclus {jaar} zijn al bewaard; ze worden nooit overschreven"
        )
    rijen = bereken_jaarcijfers(session, jaar, kalender)
    nu = datetime.now(UTC)
    if rijen:
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
                    "berekend_op": nu,
                }
                for r in rijen
            ],
        )
    return len(rijen)


def bewaarde_jaren(session: Session, jaren: Collection[int] | None = None) -> set[int]:
    """The cycle years with stored aggregates (of ``jaren``, or all)."""
    q = select(models.Jaarcijfer.jaar).group_by(models.Jaarcijfer.jaar)
    if jaren is not None:
        q = q.where(models.Jaarcijfer.jaar.in_(list(jaren)))
    return set(session.scalars(q))


def lees_jaarcijfers(
    session: Session, jaar: int, niveau: Niveau | None = None, eenheden: Collection[str] | None = None
) -> list[Jaarcijfer]:
    """The stored aggregates of ``jaar``, optionally of one level and some units, sorted."""
    t = models.Jaarcijfer
    q = select(t.jaar, t.niveau, t.eenheid, t.cijfer, t.dimensie, t.waarde).where(t.jaar == jaar)
    if niveau is not None:
        q = q.where(t.niveau == niveau.value)
    if eenheden is not None:
        q = q.where(t.eenheid.in_(list(eenheden)))
    q = q.order_by(t.niveau, t.eenheid, t.cijfer, t.dimensie)
    return [Jaarcijfer(*rij) for rij in session.execute(q)]
