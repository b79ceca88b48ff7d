"""Trend figures: the same key figures per cycle year, read from the anonymous yearly aggregates.

A closed cycle's personal data is gone, so its figures come from ``jaarcijfer`` only; a cycle whose
aggregates are not stored yet is computed from its history in exactly the same way
(``compute_jaarcijfers``'s figures on the cycle's last day, suppressed), so the trend of a year is
the same before and after its purge.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.db import models
from broker.domain.cycle import Calendar
from broker.rapportage import cijfers as c
from broker.rapportage.cijfers import Level
from broker.rapportage.jaarcijfers import compute_jaarcijfers, read_jaarcijfers, stored_years

#: (figure, dimension, label) of the trend, in the order a report shows them.
TREND_CIJFERS: tuple[tuple[str, str, str], ...] = (
    (c.LEERLINGEN, "", "leerlingen in het aanmeldproces"),
    (c.AANGEMELD_VOOR_DEADLINE, "", "aangemeld voor de deadline"),
    (c.AANGEMELD_NA_DEADLINE, "", "aangemeld na de deadline"),
    (c.TERUGGEVALLEN, "", "teruggevallen na de deadline"),
    (c.GELEVERD_NERGENS, "", "geleverd, nergens aangemeld"),
    (c.DIPLOMA_NERGENS, "", "met diploma, nergens aangemeld"),
    (c.AANMELDINGEN, "", "aanmeldingen"),
    (c.AANMELDINGEN_VOOR_DEADLINE, "", "aanmeldingen voor de deadline"),
    (c.AANMELDINGEN_NA_DEADLINE, "", "aanmeldingen na de deadline"),
    (
        c.DOORLOOPTIJD_MEDIAAN,
        "aangemeld>ingeschreven",
        "mediane doorlooptijd aanmelding → inschrijving (dagen)",
    ),
    (c.EXAMENRESULTAAT_PER_UITKOMST, "geslaagd", "geslaagd voor het examen"),
    (c.INTAKES, "", "intakes"),
    (c.INTAKES_PER_UITKOMST, "positiefAdvies", "intakes met positief advies"),
    (c.DOORLOOPTIJD_MEDIAAN, "aangemeld>intake", "mediane doorlooptijd aanmelding → intake (dagen)"),
    (
        c.DOORLOOPTIJD_MEDIAAN,
        "aangemeld>overeenkomst",
        "mediane doorlooptijd aanmelding → onderwijsovereenkomst (dagen)",
    ),
)
_KEYS = {(naam, dimensie) for naam, dimensie, _ in TREND_CIJFERS}
#: Figures of pupils (no institution has them) and of registrations (no VO school has them).
_LEERLINGCIJFERS = frozenset(c.LEERLINGCIJFERS)
_AANMELDINGCIJFERS = frozenset(c.AANMELDINGCIJFERS)


def trend_cijfers(niveau: Level) -> list[tuple[str, str, str]]:
    """The rows of ``TREND_CIJFERS`` that exist at ``niveau`` (a school has no intakes, an institution
    no exam results), so a report does not show a figure that cannot exist as 0."""
    left_out = {Level.SCHOOL: _AANMELDINGCIJFERS, Level.INSTELLING: _LEERLINGCIJFERS}.get(niveau, frozenset())
    return [row for row in TREND_CIJFERS if row[0] not in left_out]


Trend = dict[int, dict[tuple[str, str], int | None]]


def trend(session: Session, calendar: Calendar, niveau: Level, eenheid: str, until_year: int) -> Trend:
    """The key figures of ``niveau``/``eenheid`` for every cycle up to ``until_year`` that has stored
    aggregates or a row in ``cyclus``: {jaar: {(cijfer, dimensie): waarde or None (suppressed)}}.
    A figure absent from a year's dict had no observations that year. An open year is computed
    and suppressed exactly as its yearly aggregates will be stored (``compute_jaarcijfers``: every
    level as one table), so its cells and the cells withheld are the same before and after."""
    stored = stored_years(session)
    years = stored | set(session.scalars(select(models.Cyclus.jaar)))
    uitkomst: Trend = {}
    for jaar in sorted(j for j in years if j <= until_year):
        if jaar in stored:
            rows = read_jaarcijfers(session, jaar, niveau, [eenheid])
        else:
            rows = [
                r
                for r in compute_jaarcijfers(session, jaar, calendar)
                if r.niveau == niveau.value and r.eenheid == eenheid
            ]
        uitkomst[jaar] = {
            (r.cijfer, r.dimensie): r.waarde for r in rows if (r.cijfer, r.dimensie) in _KEYS
        }
    return uitkomst
