"""The caller's own process figures (issue 7 part 3, issue 16): a VO school's pupils, an MBO
institution's registrations, counted per status and before/after the deadline of the current cycle;
a school also its diploma pupils registered nowhere and the exam results behind them, an
institution its intakes per outcome; both the lead times of the registrations concerned (n, median
and 90th percentile in days per traject; ``aantal`` of a median or percentile is a number of days).

The figures are anonymous counts like those of the reports, suppressed the same way, although the
caller could count its own pupils itself: one rule for everything that leaves the system is simpler
to trust than exceptions to it. ``onderdrukt`` marks a count of 1–4 and every complementary count
withheld so that none of those can be computed back from the figures in the same answer (its
totals and distributions, docs/disclosure.md); the suppression runs over exactly the figures the
answer carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from broker.domain.visibility import PartijSoort
from broker.errors import BrokerError
from broker.rapportage import cijfers as c
from broker.rapportage.cijfers import Level, Peil, compute_cijfers
from broker.rapportage.jaarcijfers import suppress
from broker.service.context import Caller, NotAuthorised, Processing
from broker.service.scope import own_brin

#: The lead-time figures (dimensie = the traject): n registrations, and median and p90 in days.
DOORLOOPTIJDEN = (c.DOORLOOPTIJD_N, c.DOORLOOPTIJD_MEDIAAN, c.DOORLOOPTIJD_P90)
#: Which figures a party gets, at which level (a school: its pupils; an institution: its registrations).
CIJFERS: dict[PartijSoort, tuple[Level, tuple[str, ...]]] = {
    PartijSoort.VO_SCHOOL: (
        Level.SCHOOL,
        (*c.LEERLINGCIJFERS, *DOORLOOPTIJDEN),
    ),
    PartijSoort.MBO_INSTELLING: (
        Level.INSTELLING,
        (*c.AANMELDINGCIJFERS, *DOORLOOPTIJDEN),
    ),
}


class InvalidPeildatum(BrokerError, ValueError):
    """The peildatum lies before the current cycle began or after today."""


@dataclass(frozen=True)
class Procescijfer:
    """One figure for one of the caller's BRINs: a count, or for ``doorlooptijd_mediaan`` /
    ``doorlooptijd_p90`` a number of days; ``aantal`` None = suppressed (a count of 1–4, a lead time
    resting on fewer than 5 registrations, or a complementary count withheld so that no small one can
    be computed back)."""

    brin: str
    cijfer: str
    dimensie: str
    aantal: int | None


@dataclass(frozen=True)
class Procescijfers:
    peil: Peil
    cijfers: list[Procescijfer]


def opvragen_procescijfers(
    processing: Processing, call: Caller, brin: str | None, peildatum: date | None
) -> Procescijfers:
    """The caller's figures in the current cycle on ``peildatum`` (default today), for ``brin`` or
    for every BRIN it acts for; sorted by BRIN, figure, dimension.

    Raises ``NotAuthorised`` (DK0002) when ``brin`` is not one of the caller's, or the caller
    is neither a VO school nor an MBO institution; ``InvalidPeildatum`` when ``peildatum`` lies
    before the current cycle's begin or after today.
    """
    soort = CIJFERS.get(call.partij.soort)
    if soort is None:
        raise NotAuthorised("alleen een VO-school of mbo-instelling heeft eigen procescijfers")
    niveau, names = soort
    brins = sorted(call.partij.brins) if brin is None else [own_brin(call.partij, brin, "brin")]
    cyclus = processing.cyclus
    peildatum = peildatum or processing.today
    if not cyclus.begin <= peildatum <= processing.today:
        raise InvalidPeildatum(f"peildatum moet tussen {cyclus.begin} en vandaag ({processing.today}) liggen")
    peil = Peil(cyclus.jaar, cyclus.deadline, peildatum)
    figures = [
        f
        for f in compute_cijfers(processing.session, peil, niveaus=[niveau], eenheden={niveau: brins})
        if f.cijfer in names
    ]
    return Procescijfers(
        peil,
        [Procescijfer(r.eenheid, r.cijfer, r.dimensie, r.waarde) for r in suppress(cyclus.jaar, figures)],
    )
