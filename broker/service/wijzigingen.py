"""The change feed that ``opvragenWijzigingen`` reads and the outbox announces."""

from __future__ import annotations

from broker.db import models
from broker.db.commit_order import add_in_commit_order
from broker.service.context import Processing


def record_wijziging(processing: Processing, cyclus: int, sleutel_hash: str) -> None:
    """Append one change of pupil ``sleutel_hash`` to the feed, in the caller's transaction: the row is
    written when that transaction commits, with its position in commit order (``broker.db.commit_order``)."""
    wijziging = models.Wijziging(cyclus_jaar=cyclus, sleutel_hash=sleutel_hash, vastgelegd_op=processing.now)
    add_in_commit_order(processing.session, wijziging)
    processing.changed[sleutel_hash] = wijziging
