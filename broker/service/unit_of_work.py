"""The unit of work of one request: the business transaction a use case runs in, and what happens at
its end.

``unit_of_work`` hands the use case its ``Verwerking`` and, when the use case returns, plans the
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

from broker.domain.cycle import Kalender
from broker.privacy.sleutels import Sleutelbos
from broker.service.context import Verwerking
from broker.service.pushes import plan_pushes


@contextmanager
def unit_of_work(
    session: Session, sleutelbos: Sleutelbos, kalender: Kalender, nu: datetime
) -> Iterator[Verwerking]:
    """Run the body with a ``Verwerking`` on ``session`` at clock ``nu``; at its normal end, queue the
    pushes for every pupil it changed."""
    verwerking = Verwerking(session, sleutelbos, kalender, nu=nu)
    yield verwerking
    plan_pushes(verwerking)
