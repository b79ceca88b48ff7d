"""Signals: the daily ``vva signals run`` (the brief: "schools are signalled about pupils who did not
register by 1 April"; WEB art. 8.0.3, the facility's signalling duty).

Two kinds, each at most once per party and cycle (the ``signaal.sleutel`` is unique):

* ``nietAangemeld`` — after the cycle's deadline: to each VO school, one per potential mbo-ganger of
  theirs who is active and registered nowhere (the same rule as ``opvragenNietAangemeld``, so the
  signal and the query cannot disagree);
* ``geenGegevensUitgewisseld`` — from ``voorloop_dagen`` before the deadline up to the deadline: to each
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
    fase: str  # voor-voorloop | voorloop | na-deadline
    nieuw: dict[tuple[str, str], int] = field(default_factory=dict)
    pushes: int = 0
    stil: list[Silent] = field(default_factory=list)

    @property
    def totaal(self) -> int:
        return sum(self.nieuw.values())


def moment_of(peildatum: date) -> datetime:
    """The time a run for ``peildatum`` works at: that day at noon UTC when it is not today."""
    nu = datetime.now(UTC)
    return nu if peildatum == nu.date() else datetime.combine(peildatum, time(12), UTC)


def signaleer(verwerking: Processing, voorloop_dagen: int) -> SignaalRun:
    """Create the signals due on ``verwerking.today`` that do not exist yet; idempotent.

    Input: the unit of work (its clock is the peildatum) and the lead time in days. Output: a
    ``SignaalRun``. Writes ``signaal`` rows and, for parties with an endpoint, outbox rows; nothing
    is committed here (the caller's transaction). Never raises for an empty registry or cycle.
    """
    cyclus = verwerking.cyclus
    run_round = SignaalRun(verwerking.today, cyclus.jaar, cyclus.deadline, "voor-voorloop")
    endpoints = dict((p.oin, e) for p, e in active_receivers(verwerking.session))
    if verwerking.today > cyclus.deadline:
        run_round.fase = "na-deadline"
        for partij, _ in _partijen(verwerking, (PartijSoort.VO_SCHOOL,)):
            _niet_aangemeld(verwerking, partij, run_round, endpoints)
    elif verwerking.today >= cyclus.deadline - timedelta(days=voorloop_dagen):
        run_round.fase = "voorloop"
        for partij, rij in _partijen(verwerking, (PartijSoort.VO_SCHOOL, PartijSoort.MBO_INSTELLING)):
            if not _has_exchanged(verwerking, partij, cyclus.begin):
                run_round.stil.append(
                    Silent(partij.oin, rij.naam, partij.soort.value, tuple(sorted(partij.brins)))
                )
                omschrijving = (
                    f"Er zijn in deze cyclus nog geen gegevens uitgewisseld; de deadline is "
                    f"{cyclus.deadline.isoformat()}."
                )
                _signaal(
                    verwerking, run_round, partij.oin, GEEN_UITWISSELING, None, None, omschrijving, endpoints
                )
    return run_round


def _partijen(verwerking: Processing, soorten) -> list[tuple[Partij, models.Partij]]:
    register = PartijRegistry(verwerking.session)
    rijen = verwerking.session.scalars(
        select(models.Partij)
        .where(models.Partij.soort.in_([s.value for s in soorten]), models.Partij.actief.is_(True))
        .order_by(models.Partij.oin)
    )
    return [(partij, rij) for rij in rijen if (partij := register.find(rij.oin)) is not None]


def _niet_aangemeld(
    verwerking: Processing, partij: Partij, run_round: SignaalRun, endpoints: dict[str, str]
) -> None:
    aanroep = Caller(partij, message_id="")
    for overzicht in opvragen_niet_aangemeld(verwerking, aanroep, None):
        sleutel_hash = verwerking.keyring.pseudoniem(overzicht.nummer)
        omschrijving = (
            f"Deze leerling is na de deadline van {run_round.deadline.isoformat()} nergens aangemeld; "
            "neem contact op met de leerling."
        )
        _signaal(
            verwerking,
            run_round,
            partij.oin,
            NIET_AANGEMELD,
            overzicht.beeld.brin_vo,
            (sleutel_hash, verwerking.keyring.encrypt(overzicht.nummer)),
            omschrijving,
            endpoints,
        )


def _has_exchanged(verwerking: Processing, partij: Partij, begin: date) -> bool:
    L, A, B = models.Leerling, models.Aanmelding, models.Bericht
    jaar = verwerking.cyclus.jaar
    brins = sorted(partij.brins)
    vragen = [
        exists().where(L.cyclus_jaar == jaar, L.brin_vo.in_(brins)),
        exists().where(A.cyclus_jaar == jaar, A.brin_mbo.in_(brins)),
        exists().where(
            B.richting == "in",
            B.afzender_oin == partij.oin,
            B.uitkomst == "verwerkt",
            B.tijdstip >= datetime.combine(begin, time(0), UTC),
        ),
    ]
    return any(verwerking.session.scalar(select(vraag)) for vraag in vragen)


def _signaal(
    verwerking: Processing,
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
    if verwerking.session.scalar(
        select(S.id).where(S.cyclus_jaar == jaar, S.partij_oin == oin, S.sleutel == sleutel)
    ):
        return
    rij = S(
        cyclus_jaar=jaar,
        partij_oin=oin,
        soort=soort,
        brin=brin,
        sleutel_hash=leerling[0] if leerling else None,
        nummer_versleuteld=leerling[1] if leerling else None,
        omschrijving=omschrijving,
        aangemaakt_op=verwerking.nu,
        sleutel=sleutel,
    )
    try:
        with verwerking.session.begin_nested():
            verwerking.session.add(rij)
    except IntegrityError:
        return  # a concurrent run created it first
    run_round.nieuw[(oin, soort)] = run_round.nieuw.get((oin, soort), 0) + 1
    if (endpoint := endpoints.get(oin)) is not None:
        add_in_commit_order(  # in the pupil's order with its change pushes (broker.db.commit_order)
            verwerking.session,
            models.UitgaandBericht(
                ontvanger_oin=oin,
                endpoint=endpoint,
                operatie="ontvangenSignaal",
                volgorde_sleutel=leerling[0] if leerling else f"signaal:{rij.id}",
                signaal_id=rij.id,
                message_id=new_message_id(),
                inhoud=b"",  # rendered at the first attempt
                status=WACHTEND,
                pogingen=0,
                # Due now, also when the run is dated another day (--date); created "as of" that day.
                volgende_poging_op=datetime.now(UTC),
                aangemaakt_op=verwerking.nu,  # the cycle it belongs to (purge, audit)
            ),
        )
        run_round.pushes += 1
