"""Per-record outcomes of a batch delivery: applied, or rejected with a code saying what to fix."""

from __future__ import annotations

from dataclasses import dataclass, field

from broker.domain.meldingen import Melding


@dataclass(frozen=True)
class RecordOutcome:
    """The outcome of record ``volgnummer``: ``melding`` is None when it was applied."""

    volgnummer: int
    melding: Melding | None = None

    @property
    def verwerkt(self) -> bool:
        return self.melding is None


@dataclass
class BatchOutcome:
    """All record outcomes of one batch, in the order of the request."""

    outcomes: list[RecordOutcome] = field(default_factory=list)

    def verwerkt(self, volgnummer: int) -> None:
        self.outcomes.append(RecordOutcome(volgnummer))

    def rejected(self, volgnummer: int, melding: Melding) -> None:
        self.outcomes.append(RecordOutcome(volgnummer, melding))

    @property
    def processed_count(self) -> int:
        return sum(u.verwerkt for u in self.outcomes)

    @property
    def rejected_count(self) -> int:
        return len(self.outcomes) - self.processed_count
