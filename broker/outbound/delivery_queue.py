"""The outbox queue in the database (``uitgaand_bericht``): claiming due messages, their content,
giving them back, postponing a failing receiver, and recording each attempt's outcome (delivered,
retry later, dead) with the message log and the audit trail. ``broker/outbound/delivery_worker.py``
runs the loop; ``broker/outbound/transport.py`` sends.

Claims use ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of workers share the
queue; on SQLite (one writer) there is one worker. A claimed message is ``bezig`` for a lease; a
worker that dies mid-delivery leaves it ``bezig`` and after the lease it is claimed again. A pupil's
later message to the same receiver waits until the earlier one is delivered or dead; earlier means
lower ``id``, and ids are drawn in commit order (``broker.db.commit_order``). A failing push is retried
with exponential backoff (capped) and jitter for ``outbox_retry_window_s`` from the first attempt
(72 h by default), then dead-lettered.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from broker.audit.trail import PUSH, AuditEvent, record_event
from broker.bootstrap import Runtime
from broker.db import models
from broker.db.message_log import Header, log_sent
from broker.db.models import AFGELEVERD, BEZIG, DOOD, VERVALLEN, WACHTEND
from broker.outbound.rendering import last_delivered, render, render_signaal
from broker.outbound.transport import NS, VastleggendeTransport
from broker.service.context import Processing
from broker.service.pushes import active_receivers

log = logging.getLogger("vva.outbox")

#: The outcomes counted per attempt (``DeliveryWorker.telling``), in the order the summary shows them.
DELIVERED, RETRIED, DEAD = "delivered", "retried", "dead"
UITKOMSTEN = (DELIVERED, RETRIED, DEAD)


@dataclass(frozen=True)
class Task:
    """One claimed message, detached from the database session."""

    id: int
    ontvanger_oin: str
    endpoint: str
    operatie: str
    message_id: str
    inhoud: bytes
    pogingen: int


class DeliveryQueue:
    """The queue of outgoing messages, as one worker sees it."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def claim(self, maximum: int = 5) -> list[Task]:
        """Take up to ``maximum`` due messages, oldest first, never overtaking an earlier undelivered
        message of the same pupil to the same receiver; marks them ``bezig`` for the lease."""
        nu = datetime.now(UTC)
        U, eerder = models.UitgaandBericht, aliased(models.UitgaandBericht)
        voorganger = exists().where(
            eerder.ontvanger_oin == U.ontvanger_oin,
            eerder.volgorde_sleutel == U.volgorde_sleutel,
            eerder.id < U.id,
            eerder.status.in_((WACHTEND, BEZIG)),
        )
        vraag = (
            select(U)
            .where(
                or_(
                    and_(U.status == WACHTEND, U.volgende_poging_op <= nu),
                    and_(U.status == BEZIG, U.bezig_tot < nu),
                ),
                ~voorganger,
            )
            .order_by(U.id)
            .limit(maximum)
            .with_for_update(skip_locked=True)
        )
        with self.runtime.sessions.begin() as session:
            rijen = []
            for rij in session.scalars(vraag):
                if rij.status == BEZIG and _give_up(rij, nu, self.runtime.settings):
                    # Its worker died during the delivery, again and again: never a poison loop.
                    rij.status, rij.laatste_fout, rij.bezig_tot = DOOD, "worker stopped during delivery", None
                    continue
                # The attempt counts from the claim: a message that kills its worker still ends up dead.
                rij.status, rij.pogingen = BEZIG, rij.pogingen + 1
                rij.eerste_poging_op = rij.eerste_poging_op or nu
                rij.bezig_tot = nu + timedelta(seconds=self.runtime.settings.outbox_claim_s)
                rijen.append(rij)
            return [
                Task(r.id, r.ontvanger_oin, r.endpoint, r.operatie, r.message_id, r.inhoud, r.pogingen)
                for r in rijen
            ]

    def has_work(self) -> bool:
        with self.runtime.sessions() as session:
            return (
                session.scalar(
                    select(models.UitgaandBericht.id)
                    .where(models.UitgaandBericht.status.in_((WACHTEND, BEZIG)))
                    .limit(1)
                )
                is not None
            )

    def current_endpoint(self, oin: str) -> str | None:
        # The registry as it is now: a party removed, switched off or moved meanwhile gets nothing.
        with self.runtime.sessions() as session:
            return next(
                (endpoint for partij, endpoint in active_receivers(session) if partij.oin == oin), None
            )

    def inhoud(self, taak: Task) -> bytes | None:
        """The Body to send: rendered now at the first attempt (and kept), the kept one on a retry — or
        None when the push lapsed (receiver may no longer see the pupil, or would learn nothing new)."""
        om = self.runtime
        with om.sessions.begin() as session:
            rij = session.get(models.UitgaandBericht, taak.id)
            if rij is None:
                return None  # purged with its cycle (``vva cycle close``) since it was claimed
            verwerking = Processing(session, om.keyring, om.kalender)
            if rij.operatie == "ontvangenSignaal":
                weergave = render_signaal(verwerking, taak.ontvanger_oin, rij.signaal_id)
            else:
                weergave = render(verwerking, taak.ontvanger_oin, rij.volgorde_sleutel)
            if weergave is None:
                rij.status, rij.laatste_fout, rij.bezig_tot = (
                    VERVALLEN,
                    "receiver may no longer see the pupil",
                    None,
                )
                return None
            if rij.inhoud:
                return om.keyring.decrypt_data(rij.inhoud)
            if rij.operatie == "ontvangenSignaal":  # a signal is news by itself: no "nothing new" check
                rij.inhoud, rij.inhoud_digest = om.keyring.encrypt_data(weergave.xml), weergave.digest
                return weergave.xml
            if weergave.digest == last_delivered(session, taak.ontvanger_oin, rij.volgorde_sleutel):
                rij.status, rij.laatste_fout, rij.bezig_tot = VERVALLEN, "nothing new for this receiver", None
                return None
            rij.inhoud, rij.inhoud_digest = om.keyring.encrypt_data(weergave.xml), weergave.digest
            return weergave.xml

    def afsluiten(self, taak: Task, status: str, reden: str) -> None:
        with self.runtime.sessions.begin() as session:
            rij = session.get(models.UitgaandBericht, taak.id)
            rij.status, rij.laatste_fout, rij.bezig_tot = status, reden, None

    def give_back(self, taak: Task, tot: datetime) -> None:
        """Give a claimed but untried message back, due at ``tot`` with the receiver's other pushes;
        the claim's attempt is undone."""
        with self.runtime.sessions.begin() as session:
            rij = session.get(models.UitgaandBericht, taak.id)
            if rij is None or rij.status != BEZIG:
                return
            rij.status, rij.bezig_tot, rij.pogingen = WACHTEND, None, rij.pogingen - 1
            if rij.pogingen == 0:
                rij.eerste_poging_op = None
            rij.volgende_poging_op = tot

    def postpone_receiver(self, taak: Task, tot: datetime) -> None:
        """The receiver failed: its other waiting pushes wait as long as the failed one (a circuit
        breaker per receiver), instead of each costing a worker a timeout now."""
        U = models.UitgaandBericht
        with self.runtime.sessions.begin() as session:
            session.execute(
                update(U)
                .where(
                    U.ontvanger_oin == taak.ontvanger_oin, U.status == WACHTEND, U.volgende_poging_op < tot
                )
                .values(volgende_poging_op=tot)
                .execution_options(synchronize_session=False)
            )

    def record_attempt(
        self, taak: Task, transport: VastleggendeTransport, fout: str | None, blijvend: bool
    ) -> tuple[datetime | None, str | None]:
        """Record the attempt's outcome; returns the next attempt's time when it is to be retried, and
        the outcome to count (one of ``UITKOMSTEN``; None when the message was purged meanwhile)."""
        settings = self.runtime.settings
        nu = datetime.now(UTC)
        with self.runtime.sessions.begin() as session:
            rij = session.get(models.UitgaandBericht, taak.id)
            if rij is None:
                # Purged with its cycle while this attempt ran: keep nothing of its content, the cycle's
                # personal data are gone; a push that did leave is still audited, without its pupil.
                log.warning("outbox message %s was purged during its delivery", taak.id)
                if transport.laatste_verzoek:
                    self._audit(session, taak, None, (fout or AFGELEVERD)[:40], nu)
                return None, None
            rij.bezig_tot, opnieuw = None, None
            if fout is None:
                rij.status, rij.afgeleverd_op, rij.laatste_fout = AFGELEVERD, nu, None
                uitkomst_telling = DELIVERED
            elif blijvend or _give_up(rij, nu, settings):
                rij.status, rij.laatste_fout = DOOD, fout
                uitkomst_telling = DEAD
            else:
                rij.status, rij.laatste_fout = WACHTEND, fout
                uitkomst_telling = RETRIED
                opnieuw = nu + timedelta(seconds=_backoff(rij.pogingen, settings))
                rij.volgende_poging_op = opnieuw
            kop = Header(
                dienst="ontvanger",
                action=f"{NS}/ontvanger/{taak.operatie}",
                afzender_oin=settings.broker_oin,
                ontvanger_oin=taak.ontvanger_oin,
                message_id=taak.message_id,
            )
            status = transport.laatste_antwoord[0] if transport.laatste_antwoord else None
            keyring = self.runtime.keyring
            uitkomst = rij.status if fout is None else fout[:40]
            log_sent(session, transport.laatste_verzoek, kop, uitkomst, status, keyring)
            if transport.laatste_verzoek:  # only what left the broker was disclosed
                self._audit(session, taak, rij, uitkomst, nu)
            if transport.laatste_antwoord:
                antwoordkop = Header(
                    dienst="ontvanger",
                    afzender_oin=taak.ontvanger_oin,
                    ontvanger_oin=settings.broker_oin,
                    relates_to=taak.message_id,
                )
                uitkomst = "antwoord" if fout is None else fout[:40]
                log_sent(session, transport.laatste_antwoord[1], antwoordkop, uitkomst, status, keyring, "in")
        return opnieuw, uitkomst_telling

    def _audit(
        self, session, taak: Task, rij: models.UitgaandBericht | None, uitkomst: str, nu: datetime
    ) -> None:
        """A push that left the broker disclosed the pupil to its receiver: record it (AVG art. 5 lid 2),
        whatever the receiver answered (``rij`` None: purged meanwhile, recorded without the pupil)."""
        if rij is None:
            gebeurtenis = AuditEvent(
                PUSH, taak.operatie, uitkomst, taak.ontvanger_oin, message_id=taak.message_id, aantal=1
            )
            record_event(session, gebeurtenis, nu)
            return
        pupil = rij.signaal_id is None or rij.volgorde_sleutel != f"signaal:{rij.signaal_id}"
        record_event(
            session,
            AuditEvent(
                PUSH,
                taak.operatie,
                uitkomst,
                partij_oin=taak.ontvanger_oin,
                message_id=taak.message_id,
                # The cycle the push belongs to, not the day it left: a retry after the cycle's last day
                # must be purged with that cycle (``vva cycle close``).
                cyclus_jaar=self.runtime.kalender.cyclus_on(rij.aangemaakt_op.date()).jaar,
                leerlingen={rij.volgorde_sleutel} if pupil else set(),
                aantal=1,
            ),
            nu,
        )


def _give_up(rij: models.UitgaandBericht, nu: datetime, settings) -> bool:
    """Whether a failing push has had its chances: its retry window since the first attempt is over,
    or (when set) its maximum number of attempts is reached."""
    if settings.outbox_max_attempts and rij.pogingen >= settings.outbox_max_attempts:
        return True
    eerste = rij.eerste_poging_op
    if eerste is None:
        return False
    if eerste.tzinfo is None:  # SQLite gives naive UTC
        eerste = eerste.replace(tzinfo=UTC)
    return (nu - eerste).total_seconds() >= settings.outbox_retry_window_s


def _backoff(pogingen: int, settings) -> float:
    """Exponential backoff with full jitter around the middle: basis × 2^(n−1), capped, × 0.5–1.5."""
    # The exponent is capped too: after a few days of attempts 2**n would overflow a float.
    basis = min(settings.outbox_max_wait_s, settings.outbox_base_s * 2 ** min(pogingen - 1, 60))
    return basis * random.uniform(0.5, 1.5)
