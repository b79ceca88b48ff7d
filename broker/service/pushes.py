"""Push planning: at the end of a unit of work (``broker.service.unit_of_work``), the pushes its
changes cause are queued in the outbox, in the same transaction.

For every pupil changed in the transaction (``Processing.changed``) and every party with a push
endpoint that may see that pupil (``broker.domain.routing``), one notice "pupil X changed, tell
receiver R" is queued — unless one for the same pupil and receiver is still waiting untried, which
will carry the newest state anyway. If the transaction rolls back, so do its pushes; if it commits,
they will be delivered (``broker.outbound``), their content rendered at the first attempt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from broker.db import models
from broker.db.commit_order import add_in_commit_order
from broker.db.models import WACHTEND
from broker.domain.identifiers import new_message_id
from broker.domain.routing import receivers
from broker.domain.visibility import Partij, normalise_rmc
from broker.registry.snapshot import registry_snapshot
from broker.service.context import Processing
from broker.service.feiten import Rows


def plan_pushes(processing: Processing) -> int:
    """Queue a push notice for every pupil changed in ``processing``'s transaction and every party with
    an endpoint that may see it; returns how many were queued.

    Source: the brief ("the facility informs the other parties of every change immediately"); who
    receives what: ``broker.domain.routing`` (WEB art. 8.0.3; AVG art. 5 lid 1 sub c).
    """
    if not processing.changed:
        return 0
    partijen = _Receivers.load(processing)
    if not partijen.everyone:
        return 0
    rows = Rows.load(processing, processing.changed.keys())
    already_waiting = _waiting_notes(processing, processing.changed.keys())
    count = 0
    for sleutel_hash in processing.changed:
        for partij, endpoint in partijen.candidates(rows, sleutel_hash):
            if (partij.oin, sleutel_hash) in already_waiting:
                continue
            dossier = rows.dossiers(partij, [sleutel_hash]).get(sleutel_hash)
            if dossier is not None and receivers(dossier.feiten, [partij]):
                _queued(processing, partij.oin, endpoint, sleutel_hash)
                already_waiting.add((partij.oin, sleutel_hash))
                count += 1
    return count


@dataclass(frozen=True)
class _Receivers:
    """Parties with an endpoint, indexed by the codes their scope is made of, so that a change is only
    checked against the parties that could possibly see it (thousands of parties, batches of 5,000)."""

    everyone: list[tuple[Partij, str]]
    per_brin: dict[str, list[int]]
    per_gemeente: dict[str, list[int]]
    per_rmc: dict[str, list[int]]

    @classmethod
    def load(cls, processing: Processing) -> _Receivers:
        all_ = active_receivers(processing.session)
        per_brin: dict[str, list[int]] = {}
        per_gemeente: dict[str, list[int]] = {}
        per_rmc: dict[str, list[int]] = {}
        for i, (partij, _) in enumerate(all_):
            for brin in partij.brins:
                per_brin.setdefault(brin, []).append(i)
            for code in partij.gemeentecodes:
                per_gemeente.setdefault(code, []).append(i)
            for rmc in partij.rmc_regios:
                per_rmc.setdefault(normalise_rmc(rmc), []).append(i)
        return cls(all_, per_brin, per_gemeente, per_rmc)

    def candidates(self, rows: Rows, sleutel_hash: str) -> list[tuple[Partij, str]]:
        deliveries = rows.leerlingen.get(sleutel_hash, [])
        brins = {r.brin_vo for r in deliveries} | {
            a.brin_mbo for a in rows.aanmeldingen.get(sleutel_hash, [])
        }
        gemeenten = {r.gemeentecode for r in deliveries if r.gemeentecode}
        rmcs = {rows.regio.gemeente.get(g) for g in gemeenten}
        rmcs |= {
            rows.regio.vestiging.get(r.vestiging or "") or rows.regio.instelling.get(r.brin_vo)
            for r in deliveries
        }
        indices: set[int] = set()
        for brin in brins:
            indices.update(self.per_brin.get(brin, []))
        for code in gemeenten:
            indices.update(self.per_gemeente.get(code, []))
        for rmc in rmcs - {None}:
            indices.update(self.per_rmc.get(normalise_rmc(rmc), []))
        return [self.everyone[i] for i in sorted(indices)]


def active_receivers(session) -> list[tuple[Partij, str]]:
    """Every active party with a push endpoint, as (registry view, endpoint), in OIN order."""
    return registry_snapshot(session).receivers()


def _waiting_notes(processing: Processing, hashes: Iterable[str]) -> set[tuple[str, str]]:
    U = models.OutboxMessage
    list_ = list(hashes)
    uitkomst: set[tuple[str, str]] = set()
    for i in range(0, len(list_), 500):
        uitkomst.update(
            processing.session.execute(
                select(U.receiver_oin, U.ordering_key).where(
                    U.status == WACHTEND, U.attempts == 0, U.ordering_key.in_(list_[i : i + 500])
                )
            ).tuples()
        )
    return uitkomst


def _queued(processing: Processing, oin: str, endpoint: str, order: str) -> None:
    # Written at commit, its id drawn in commit order: a pupil's pushes leave in the order of the
    # commits they announce (broker.db.commit_order).
    add_in_commit_order(
        processing.session,
        models.OutboxMessage(
            receiver_oin=oin,
            endpoint=endpoint,
            operation="ontvangenWijziging",
            ordering_key=order,
            message_id=new_message_id(),
            content=b"",  # rendered at the first attempt
            status=WACHTEND,
            attempts=0,
            next_attempt_at=processing.now,
            created_at=processing.now,
        ),
    )
