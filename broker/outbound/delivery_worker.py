"""Delivers the outbox: ``vva outbox run`` (docs/rules.md, "The broker as client"; F7; the brief: "informs the other
parties of every change immediately").

The worker loop: claim a batch of due messages from the queue (``broker/outbound/delivery_queue.py``),
send each once (``broker/outbound/transport.py``: signed, over two-way TLS, the signed answer
verified), record the outcome, and go on until stopped; a database that is away for a moment is waited
for with backoff. Transport errors, unverifiable answers and DK0051 are retried with exponential
backoff (capped) and jitter for ``outbox_retry_window_s`` from the first attempt (72 h by default),
then dead-lettered; any other fault is final at once. A failed attempt postpones the receiver's other
waiting pushes to the same time, so a receiver that is down costs one timeout per backoff step, not one
per push, and the others are served meanwhile. Every attempt is written to the message log.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import datetime

from sqlalchemy.exc import DBAPIError, OperationalError

from broker.bootstrap import Runtime
from broker.db.models import DOOD, VERVALLEN
from broker.outbound.delivery_queue import DEAD, DeliveryQueue, Task
from broker.outbound.transport import PushTransport, RecordingTransport

log = logging.getLogger("vva.outbox")


class DeliveryWorker:
    """One delivery worker: its queue, its transport and the count of its outcomes."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.queue = DeliveryQueue(runtime)
        self.transport = PushTransport(runtime)
        self.multiple = runtime.engine.dialect.name == "postgresql"
        #: Outcomes of this worker's attempts, for ``vva outbox run --until-empty``'s summary.
        self.count: Counter[str] = Counter()

    def close(self) -> None:
        """Release what this worker holds outside the database: the CA bundle file."""
        self.transport.close()

    def claim(self, maximum: int = 5) -> list[Task]:
        """Take up to ``maximum`` due messages (``DeliveryQueue.claim``)."""
        return self.queue.claim(maximum)

    def run_round(self, maximum: int = 5) -> int:
        """Claim and deliver one batch; returns how many messages were handled."""
        tasks = self.claim(maximum)
        postponed: dict[str, datetime] = {}  # receivers that failed in this batch: until when
        for task in tasks:
            if task.receiver_oin in postponed:
                # Not tried: it waits with the receiver's other pushes.
                self.queue.give_back(task, postponed[task.receiver_oin])
            elif (until := self.deliver(task)) is not None:
                postponed[task.receiver_oin] = until
        return len(tasks)

    def run(self, until_empty: bool = False, stop=None) -> None:
        """Deliver until stopped (``stop()`` true) or, with ``until_empty``, until nothing is left to do."""
        pause = 0.2
        while not (stop and stop()):
            try:
                if self.run_round() == 0:
                    if until_empty and not self.queue.has_work():
                        return
                    time.sleep(0.2)
                pause = 0.2
            except (OperationalError, DBAPIError) as exc:
                # The database is away for a moment: wait and go on; claimed messages come back after
                # their lease, so nothing is lost.
                log.error(
                    "outbox worker: database unavailable (%s), retrying in %.1f s", type(exc).__name__, pause
                )
                time.sleep(pause)
                pause = min(pause * 2, 30.0)

    # --- one delivery ------------------------------------------------------------------------------

    def deliver(self, task: Task) -> datetime | None:
        """Send ``task`` once and record the outcome (delivered, retry later, or dead); returns the
        time of the next attempt when the receiver failed (None otherwise). Never raises: whatever goes wrong with one
        message is recorded on it, so one bad message cannot stop a worker."""
        try:
            return self._deliver_task(task)
        except Exception as exc:  # noqa: BLE001 — recorded, retried, dead-lettered in the end
            log.error("delivery of outbox message %s failed: %s", task.id, type(exc).__name__)
            self._record_attempt(task, RecordingTransport(), f"internal {type(exc).__name__}", False)
            return None  # our failure, not the receiver's: its other pushes go on

    def _deliver_task(self, task: Task) -> datetime | None:
        endpoint = self.queue.current_endpoint(task.receiver_oin)
        if endpoint is None:
            self._finish(task, VERVALLEN, "receiver no longer registered with an endpoint")
            return None
        if self.runtime.settings.environment == "production" and not endpoint.startswith("https://"):
            self._finish(task, DOOD, "endpoint is not https (T8)")
            return None
        content = self.queue.content(task)
        if content is None:
            return None
        transport, error, permanent = self.transport.send(
            endpoint, task.receiver_oin, task.operation, task.message_id, content
        )
        again = self._record_attempt(task, transport, error, permanent)
        if again is not None:
            self.queue.postpone_receiver(task, again)
        return again

    def _finish(self, task: Task, status: str, reason: str) -> None:
        self.queue.finish(task, status, reason)
        if status == DOOD:
            self.count[DEAD] += 1

    def _record_attempt(
        self, task: Task, transport: RecordingTransport, error: str | None, permanent: bool
    ) -> datetime | None:
        """Record the attempt's outcome; returns the next attempt's time when it is to be retried."""
        again, outcome_count = self.queue.record_attempt(task, transport, error, permanent)
        if outcome_count is not None:
            self.count[outcome_count] += 1  # counted once committed
        return again
