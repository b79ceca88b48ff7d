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

    uitkomsten: list[RecordOutcome] = field(default_factory=list)

    def verwerkt(self, volgnummer: int) -> None:
        self.uitkomsten.append(RecordOutcome(volgnummer))

    def afgewezen(self, volgnummer: int, melding: Melding) -> None:
        self.uitkomsten.append(RecordOutcome(volgnummer, melding))

    @property
    def aantal_verwerkt(self) -> int:
        return sum(u.verwerkt for u in self.uitkomsten)

    @property
    def aantal_afgewezen(self) -> int:
        return len(self.uitkomsten) - self.aantal_verwerkt
