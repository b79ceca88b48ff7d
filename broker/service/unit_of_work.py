"""The unit of work of one request: the business transaction a use case runs in, and what happens at
its end.

``unit_of_work`` hands the use case its ``Processing`` and, when the use case returns, plans the
pushes its changes cause (``broker.service.pushes``), still inside the caller's transaction: the
outbox rows commit or roll back with the change they announce. A use case that raises plans nothing
(its transaction is rolled back). Committing is the caller's: the inbound pipeline logs and audits the
answer in the same transaction first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.orm import Session

from broker.domain.cycle import Calendar
from broker.privacy.keys import Keyring
from broker.service.context import Processing
from broker.service.pushes import plan_pushes


@contextmanager
def unit_of_work(
    session: Session, keyring: Keyring, calendar: Calendar, now: datetime
) -> Iterator[Processing]:
    """Run the body with a ``Processing`` on ``session`` at clock ``now``; at its normal end, queue the
    pushes for every pupil it changed."""
    processing = Processing(session, keyring, calendar, now=now)
    yield processing
    plan_pushes(processing)
