"""Signals: the daily ``vva signals run`` (the brief: "schools are signalled about pupils who did not
register by 1 April"; WEB art. 8.0.3, the facility's signalling duty).

Two kinds, each at most once per party and cycle (the ``signaal.sleutel`` is unique):

* ``nietAangemeld`` — after the cycle's deadline: to each VO school, one per potential mbo-ganger of
  theirs who is active and registered nowhere (the same rule as ``opvragenNietAangemeld``, so the
  signal and the query cannot disagree);
* ``geenGegevensUitgewisseld`` — from ``lead_days`` before the deadline up to the deadline: to each
  VO school and MBO institution that has exchanged no data at all in this cycle (no pupils delivered,
  no registrations, no processed request).

Every signal can be fetched with ``opvragenSignalen``; a party with a push endpoint also gets it as an
``ontvangenSignaal`` push, queued in the outbox in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from broker.db import models
from broker.db.commit_order import add_in_commit_order
from broker.db.models import WACHTEND
from broker.domain.identifiers import new_message_id
from broker.domain.visibility import Partij, PartijSoort
from broker.registry.repository import PartijRegistry
from broker.service.context import Caller, Processing
from broker.service.opvragen import opvragen_niet_aangemeld
from broker.service.pushes import active_receivers

NIET_AANGEMELD = "nietAangemeld"
GEEN_UITWISSELING = "geenGegevensUitgewisseld"


@dataclass(frozen=True)
class Silent:
    """A party that exchanged nothing yet in this cycle (a line of the operator report)."""

    oin: str
    naam: str
    soort: str
    brins: tuple[str, ...]


@dataclass
class SignaalRun:
    """What one run did: the phase of the cycle it found, the new signals per party OIN and kind,
    the pushes queued, and the parties that have exchanged nothing (before the deadline)."""

    peildatum: date
    cyclus_jaar: int
    deadline: date
    phase: str  # voor-voorloop | voorloop | na-deadline
    new: dict[tuple[str, str], int] = field(default_factory=dict)
    pushes: int = 0
    quiet: list[Silent] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.new.values())


def moment_of(peildatum: date) -> datetime:
    """The time a run for ``peildatum`` works at: that day at noon UTC when it is not today."""
    now = datetime.now(UTC)
    return now if peildatum == now.date() else datetime.combine(peildatum, time(12), UTC)


def raise_signalen(processing: Processing, lead_days: int) -> SignaalRun:
    """Create the signals due on ``processing.today`` that do not exist yet; idempotent.

    Input: the unit of work (its clock is the peildatum) and the lead time in days. Output: a
    ``SignaalRun``. Writes ``signaal`` rows and, for parties with an endpoint, outbox rows; nothing
    is committed here (the caller's transaction). Never raises for an empty registry or cycle.
    """
    cyclus = processing.cyclus
    run_round = SignaalRun(processing.today, cyclus.jaar, cyclus.deadline, "voor-voorloop")
    endpoints = dict((p.oin, e) for p, e in active_receivers(processing.session))
    if processing.today > cyclus.deadline:
        run_round.phase = "na-deadline"
        for partij, _ in _partijen(processing, (PartijSoort.VO_SCHOOL,)):
            _niet_aangemeld(processing, partij, run_round, endpoints)
    elif processing.today >= cyclus.deadline - timedelta(days=lead_days):
        run_round.phase = "voorloop"
        for partij, row in _partijen(processing, (PartijSoort.VO_SCHOOL, PartijSoort.MBO_INSTELLING)):
            if not _has_exchanged(processing, partij, cyclus.begin):
                run_round.quiet.append(
                    Silent(partij.oin, row.naam, partij.soort.value, tuple(sorted(partij.brins)))
                )
                omschrijving = (
                    f"Er zijn in deze cyclus nog geen gegevens uitgewisseld; de deadline is "
                    f"{cyclus.deadline.isoformat()}."
                )
                _signaal(
                    processing, run_round, partij.oin, GEEN_UITWISSELING, None, None, omschrijving, endpoints
                )
    return run_round


def _partijen(processing: Processing, kinds) -> list[tuple[Partij, models.Partij]]:
    register = PartijRegistry(processing.session)
    rows = processing.session.scalars(
        select(models.Partij)
        .where(models.Partij.soort.in_([s.value for s in kinds]), models.Partij.actief.is_(True))
        .order_by(models.Partij.oin)
    )
    return [(partij, row) for row in rows if (partij := register.find(row.oin)) is not None]


def _niet_aangemeld(
    processing: Processing, partij: Partij, run_round: SignaalRun, endpoints: dict[str, str]
) -> None:
    call = Caller(partij, message_id="")
    for overzicht in opvragen_niet_aangemeld(processing, call, None):
        sleutel_hash = processing.keyring.pseudonym(overzicht.nummer)
        omschrijving = (
            f"Deze leerling is na de deadline van {run_round.deadline.isoformat()} nergens aangemeld; "
            "neem contact op met de leerling."
        )
        _signaal(
            processing,
            run_round,
            partij.oin,
            NIET_AANGEMELD,
            overzicht.beeld.brin_vo,
            (sleutel_hash, processing.keyring.encrypt(overzicht.nummer)),
            omschrijving,
            endpoints,
        )


def _has_exchanged(processing: Processing, partij: Partij, start: date) -> bool:
    L, A, B = models.Leerling, models.Aanmelding, models.Bericht
    jaar = processing.cyclus.jaar
    brins = sorted(partij.brins)
    queries = [
        exists().where(L.cyclus_jaar == jaar, L.brin_vo.in_(brins)),
        exists().where(A.cyclus_jaar == jaar, A.brin_mbo.in_(brins)),
        exists().where(
            B.richting == "in",
            B.afzender_oin == partij.oin,
            B.uitkomst == "verwerkt",
            B.tijdstip >= datetime.combine(start, time(0), UTC),
        ),
    ]
    return any(processing.session.scalar(select(query)) for query in queries)


def _signaal(
    processing: Processing,
    run_round: SignaalRun,
    oin: str,
    soort: str,
    brin: str | None,
    leerling: tuple[str, bytes] | None,
    omschrijving: str,
    endpoints: dict[str, str],
) -> None:
    sleutel = ":".join([soort, brin or "", leerling[0] if leerling else ""])
    S = models.Signaal
    jaar = run_round.cyclus_jaar
    if processing.session.scalar(
        select(S.id).where(S.cyclus_jaar == jaar, S.partij_oin == oin, S.sleutel == sleutel)
    ):
        return
    row = S(
        cyclus_jaar=jaar,
        partij_oin=oin,
        soort=soort,
        brin=brin,
        sleutel_hash=leerling[0] if leerling else None,
        nummer_versleuteld=leerling[1] if leerling else None,
        omschrijving=omschrijving,
        aangemaakt_op=processing.now,
        sleutel=sleutel,
    )
    try:
        with processing.session.begin_nested():
            processing.session.add(row)
    except IntegrityError:
        return  # a concurrent run created it first
    run_round.new[(oin, soort)] = run_round.new.get((oin, soort), 0) + 1
    if (endpoint := endpoints.get(oin)) is not None:
        add_in_commit_order(  # in the pupil's order with its change pushes (broker.db.commit_order)
            processing.session,
            models.OutboxMessage(
                receiver_oin=oin,
                endpoint=endpoint,
                operation="ontvangenSignaal",
                ordering_key=leerling[0] if leerling else f"signaal:{row.id}",
                signaal_id=row.id,
                message_id=new_message_id(),
                content=b"",  # rendered at the first attempt
                status=WACHTEND,
                attempts=0,
                # Due now, also when the run is dated another day (--date); created "as of" that day.
                next_attempt_at=datetime.now(UTC),
                created_at=processing.now,  # the cycle it belongs to (purge, audit)
            ),
        )
        run_round.pushes += 1
