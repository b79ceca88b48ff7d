"""The change feed that ``opvragenWijzigingen`` reads (and, later, the outbox)."""

from __future__ import annotations

from broker.db import models
from broker.service.context import Verwerking


def registreer_wijziging(verwerking: Verwerking, cyclus: int, sleutel_hash: str) -> None:
    """Append one change of pupil ``sleutel_hash`` to the feed, in the caller's transaction."""
    wijziging = models.Wijziging(cyclus_jaar=cyclus, sleutel_hash=sleutel_hash, vastgelegd_op=verwerking.nu)
    verwerking.session.add(wijziging)
    verwerking.gewijzigd[sleutel_hash] = wijziging
