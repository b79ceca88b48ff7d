"""The outbox queue in the database (``outbox_message``): claiming due messages, their content,
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
from broker.outbound.transport import NS, RecordingTransport
from broker.service.context import Processing
from broker.service.pushes import active_receivers

log = logging.getLogger("vva.outbox")

#: The outcomes counted per attempt (``DeliveryWorker.count``), in the order the summary shows them.
DELIVERED, RETRIED, DEAD = "delivered", "retried", "dead"
OUTCOMES = (DELIVERED, RETRIED, DEAD)


@dataclass(frozen=True)
class Task:
    """One claimed message, detached from the database session."""

    id: int
    receiver_oin: str
    endpoint: str
    operation: str
    message_id: str
    content: bytes
    attempts: int


class DeliveryQueue:
    """The queue of outgoing messages, as one worker sees it."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def claim(self, maximum: int = 5) -> list[Task]:
        """Take up to ``maximum`` due messages, oldest first, never overtaking an earlier undelivered
        message of the same pupil to the same receiver; marks them ``bezig`` for the lease."""
        now = datetime.now(UTC)
        U, earlier = models.OutboxMessage, aliased(models.OutboxMessage)
        predecessor = exists().where(
            earlier.receiver_oin == U.receiver_oin,
            earlier.ordering_key == U.ordering_key,
            earlier.id < U.id,
            earlier.status.in_((WACHTEND, BEZIG)),
        )
        query = (
            select(U)
            .where(
                or_(
                    and_(U.status == WACHTEND, U.next_attempt_at <= now),
                    and_(U.status == BEZIG, U.claimed_until < now),
                ),
                ~predecessor,
            )
            .order_by(U.id)
            .limit(maximum)
            .with_for_update(skip_locked=True)
        )
        with self.runtime.sessions.begin() as session:
            rows = []
            for row in session.scalars(query):
                if row.status == BEZIG and _give_up(row, now, self.runtime.settings):
                    # Its worker died during the delivery, again and again: never a poison loop.
                    row.status, row.last_error, row.claimed_until = (
                        DOOD,
                        "worker stopped during delivery",
                        None,
                    )
                    continue
                # The attempt counts from the claim: a message that kills its worker still ends up dead.
                row.status, row.attempts = BEZIG, row.attempts + 1
                row.first_attempt_at = row.first_attempt_at or now
                row.claimed_until = now + timedelta(seconds=self.runtime.settings.outbox_claim_s)
                rows.append(row)
            return [
                Task(r.id, r.receiver_oin, r.endpoint, r.operation, r.message_id, r.content, r.attempts)
                for r in rows
            ]

    def has_work(self) -> bool:
        with self.runtime.sessions() as session:
            return (
                session.scalar(
                    select(models.OutboxMessage.id)
                    .where(models.OutboxMessage.status.in_((WACHTEND, BEZIG)))
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

    def content(self, task: Task) -> bytes | None:
        """The Body to send: rendered now at the first attempt (and kept), the kept one on a retry — or
        None when the push lapsed (receiver may no longer see the pupil, or would learn nothing new)."""
        rt = self.runtime
        with rt.sessions.begin() as session:
            row = session.get(models.OutboxMessage, task.id)
            if row is None:
                return None  # purged with its cycle (``vva cycle close``) since it was claimed
            processing = Processing(session, rt.keyring, rt.calendar)
            if row.operation == "ontvangenSignaal":
                rendering = render_signaal(processing, task.receiver_oin, row.signaal_id)
            else:
                rendering = render(processing, task.receiver_oin, row.ordering_key)
            if rendering is None:
                row.status, row.last_error, row.claimed_until = (
                    VERVALLEN,
                    "receiver may no longer see the pupil",
                    None,
                )
                return None
            if row.content:
                return rt.keyring.decrypt_data(row.content)
            if row.operation == "ontvangenSignaal":  # a signal is news by itself: no "nothing new" check
                row.content, row.content_digest = rt.keyring.encrypt_data(rendering.xml), rendering.digest
                return rendering.xml
            if rendering.digest == last_delivered(session, task.receiver_oin, row.ordering_key):
                row.status, row.last_error, row.claimed_until = (
                    VERVALLEN,
                    "nothing new for this receiver",
                    None,
                )
                return None
            row.content, row.content_digest = rt.keyring.encrypt_data(rendering.xml), rendering.digest
            return rendering.xml

    def finish(self, task: Task, status: str, reason: str) -> None:
        with self.runtime.sessions.begin() as session:
            row = session.get(models.OutboxMessage, task.id)
            row.status, row.last_error, row.claimed_until = status, reason, None

    def give_back(self, task: Task, until: datetime) -> None:
        """Give a claimed but untried message back, due at ``until`` with the receiver's other pushes;
        the claim's attempt is undone."""
        with self.runtime.sessions.begin() as session:
            row = session.get(models.OutboxMessage, task.id)
            if row is None or row.status != BEZIG:
                return
            row.status, row.claimed_until, row.attempts = WACHTEND, None, row.attempts - 1
            if row.attempts == 0:
                row.first_attempt_at = None
            row.next_attempt_at = until

    def postpone_receiver(self, task: Task, until: datetime) -> None:
        """The receiver failed: its other waiting pushes wait as long as the failed one (a circuit
        breaker per receiver), instead of each costing a worker a timeout now."""
        U = models.OutboxMessage
        with self.runtime.sessions.begin() as session:
            session.execute(
                update(U)
                .where(U.receiver_oin == task.receiver_oin, U.status == WACHTEND, U.next_attempt_at < until)
                .values(next_attempt_at=until)
                .execution_options(synchronize_session=False)
            )

    def record_attempt(
        self, task: Task, transport: RecordingTransport, error: str | None, permanent: bool
    ) -> tuple[datetime | None, str | None]:
        """Record the attempt's outcome; returns the next attempt's time when it is to be retried, and
        the outcome to count (one of ``OUTCOMES``; None when the message was purged meanwhile)."""
        settings = self.runtime.settings
        now = datetime.now(UTC)
        with self.runtime.sessions.begin() as session:
            row = session.get(models.OutboxMessage, task.id)
            if row is None:
                # Purged with its cycle while this attempt ran: keep nothing of its content, the cycle's
                # personal data are gone; a push that did leave is still audited, without its pupil.
                log.warning("outbox message %s was purged during its delivery", task.id)
                if transport.last_request:
                    self._audit(session, task, None, (error or AFGELEVERD)[:40], now)
                return None, None
            row.claimed_until, again = None, None
            if error is None:
                row.status, row.delivered_at, row.last_error = AFGELEVERD, now, None
                outcome_count = DELIVERED
            elif permanent or _give_up(row, now, settings):
                row.status, row.last_error = DOOD, error
                outcome_count = DEAD
            else:
                row.status, row.last_error = WACHTEND, error
                outcome_count = RETRIED
                again = now + timedelta(seconds=_backoff(row.attempts, settings))
                row.next_attempt_at = again
            header = Header(
                dienst="ontvanger",
                action=f"{NS}/ontvanger/{task.operation}",
                afzender_oin=settings.broker_oin,
                ontvanger_oin=task.receiver_oin,
                message_id=task.message_id,
            )
            status = transport.last_response[0] if transport.last_response else None
            keyring = self.runtime.keyring
            outcome = row.status if error is None else error[:40]
            log_sent(session, transport.last_request, header, outcome, status, keyring)
            if transport.last_request:  # only what left the broker was disclosed
                self._audit(session, task, row, outcome, now)
            if transport.last_response:
                response_header = Header(
                    dienst="ontvanger",
                    afzender_oin=task.receiver_oin,
                    ontvanger_oin=settings.broker_oin,
                    relates_to=task.message_id,
                )
                outcome = "antwoord" if error is None else error[:40]
                log_sent(session, transport.last_response[1], response_header, outcome, status, keyring, "in")
        return again, outcome_count

    def _audit(
        self, session, task: Task, row: models.OutboxMessage | None, outcome: str, now: datetime
    ) -> None:
        """A push that left the broker disclosed the pupil to its receiver: record it (AVG art. 5 lid 2),
        whatever the receiver answered (``row`` None: purged meanwhile, recorded without the pupil)."""
        if row is None:
            event = AuditEvent(
                PUSH, task.operation, outcome, task.receiver_oin, message_id=task.message_id, record_count=1
            )
            record_event(session, event, now)
            return
        pupil = row.signaal_id is None or row.ordering_key != f"signaal:{row.signaal_id}"
        record_event(
            session,
            AuditEvent(
                PUSH,
                task.operation,
                outcome,
                partij_oin=task.receiver_oin,
                message_id=task.message_id,
                # The cycle the push belongs to, not the day it left: a retry after the cycle's last day
                # must be purged with that cycle (``vva cycle close``).
                cyclus_jaar=self.runtime.calendar.cyclus_on(row.created_at.date()).jaar,
                leerlingen={row.ordering_key} if pupil else set(),
                record_count=1,
            ),
            now,
        )


def _give_up(row: models.OutboxMessage, now: datetime, settings) -> bool:
    """Whether a failing push has had its chances: its retry window since the first attempt is over,
    or (when set) its maximum number of attempts is reached."""
    if settings.outbox_max_attempts and row.attempts >= settings.outbox_max_attempts:
        return True
    first = row.first_attempt_at
    if first is None:
        return False
    if first.tzinfo is None:  # SQLite gives naive UTC
        first = first.replace(tzinfo=UTC)
    return (now - first).total_seconds() >= settings.outbox_retry_window_s


def _backoff(attempts: int, settings) -> float:
    """Exponential backoff with full jitter around the middle: basis × 2^(n−1), capped, × 0.5–1.5."""
    # The exponent is capped too: after a few days of attempts 2**n would overflow a float.
    base = min(settings.outbox_max_wait_s, settings.outbox_base_s * 2 ** min(attempts - 1, 60))
    return base * random.uniform(0.5, 1.5)
