"""A process's copy of the party registry, renewed when the registry changes.

Every request is authorised against the registry and every change is routed to the parties with an
endpoint; reading parties, scopes and mandates through the ORM on each request cost a quarter of a
signed ping (bench/README.md). A web process therefore keeps the whole registry in memory — a few
thousand parties nationally — and checks one value per use: ``registry_version.version``, which a trigger
renews in the same transaction as any change to partij, partij_scope or mandaat, by whatever writer
(migration 0011). A change committed by ``vva party`` is seen by the very next request of every
process, as before; a rolled-back change leaves no trace, because the value is random, not a counter.

The rules are those of ``PartijRegistry`` (``find``, ``mandaat_valid``, ``endpoint``); the copy only
changes where the rows come from.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from broker.db import models
from broker.domain.identifiers import is_valid_oin
from broker.domain.visibility import Partij, PartijSoort
from broker.registry.mandates import MANDAAT_VALID, mandaat_state
from broker.registry.repository import SCOPE_BRIN, SCOPE_GEMEENTE, SCOPE_RMC


@dataclass(frozen=True)
class MandaatSnapshot:
    """One mandate as stored (the attributes the mandate rule reads)."""

    certificaat_oin: str
    geldig_van: date | None
    geldig_tot: date | None
    acties: str | None


@dataclass(frozen=True)
class PartijSnapshot:
    """One registered party: its domain view (None with ``error`` when its stored codes are not
    canonical), endpoint, whether it is active, and its mandates."""

    oin: str
    partij: Partij | None
    error: ValueError | None
    endpoint: str | None
    actief: bool
    mandaten: tuple[MandaatSnapshot, ...]


class RegistrySnapshot:
    """The registry at one ``versie``: read-only, shared by the threads of a process."""

    def __init__(self, versie: str, partijen: dict[str, PartijSnapshot]) -> None:
        self.versie = versie
        self._partijen = partijen
        self._receivers = [
            (p.partij, p.endpoint)
            for oin, p in sorted(partijen.items())
            if p.actief and p.endpoint is not None and p.partij is not None
        ]

    def find(self, oin: str) -> Partij | None:
        """As ``PartijRegistry.find``: the active party with this OIN, else None; raises ``ValueError``
        when its stored codes are not canonical (written around the register)."""
        row = self._active(oin)
        if row is None:
            return None
        if row.error is not None:
            # A fresh exception per call: the stored one, raised again by every request, would collect
            # each request's frames in its traceback for as long as the process runs.
            raise ValueError(*row.error.args)
        return row.partij

    def mandaat_valid(
        self, certificaat_oin: str, partij_oin: str, on: date, action: str | None = None
    ) -> bool:
        """As ``PartijRegistry.mandaat_valid`` (M1–M3); raises ``TypeError`` for a
        datetime ``on``."""
        state = mandaat_state(self._active, self._holder_active, certificaat_oin, partij_oin, on, action)
        return state == MANDAAT_VALID

    def mandaat_state(self, certificaat_oin: str, partij_oin: str, on: date, action: str | None = None) -> str:
        """As ``broker.registry.mandates.mandaat_state``: ``MANDAAT_VALID``, ``NO_MANDAAT`` or
        ``MANDAAT_DOES_NOT_COVER``, so a refusal can say which (Client.DK0002 detail)."""
        return mandaat_state(self._active, self._holder_active, certificaat_oin, partij_oin, on, action)

    def endpoint(self, oin: str) -> str | None:
        """The push endpoint of the active party ``oin``; None when it has none, is unknown or inactive."""
        row = self._active(oin)
        return row.endpoint if row is not None else None

    def receivers(self) -> list[tuple[Partij, str]]:
        """Every active party with a push endpoint, as (domain view, endpoint), in OIN order."""
        return list(self._receivers)

    def _active(self, oin: str) -> PartijSnapshot | None:
        if not is_valid_oin(oin):
            return None
        row = self._partijen.get(oin)
        return row if row is not None and row.actief else None

    def _holder_active(self, certificaat_oin: str) -> bool | None:
        row = self._partijen.get(certificaat_oin)
        return row.actief if row is not None else None


class _Stored:
    """The latest copy of one database's registry in this process."""

    def __init__(self) -> None:
        self.snapshot: RegistrySnapshot | None = None
        self.lock = threading.Lock()


_VERSION_TABLE = models.RegistryVersion.__table__
_VERSION = select(_VERSION_TABLE.c.version).where(_VERSION_TABLE.c.id == 1)
_per_database: weakref.WeakKeyDictionary[Engine, _Stored] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def registry_snapshot(session: Session) -> RegistrySnapshot:
    """The registry as ``session`` sees it: this process's copy when its version is the one the session
    reads, else a fresh copy read in ``session`` (which then becomes the process's copy).

    One ``SELECT`` of the version per call when the copy is current; four when it is not. Within a
    transaction that changed the registry itself (pending changes are flushed first, as the session's
    autoflush would), the session's own (uncommitted) version differs from every committed one, so it
    reads its own changes and no other process ever uses them.
    """
    stored = _stored_for(session.get_bind())
    if session.autoflush:
        # As the rows' SELECTs below would: pending registry changes first, so that their (uncommitted)
        # version is the one read, and a copy holding them never carries a committed version.
        session.flush()
    versie = session.connection().execute(_VERSION).scalar_one()
    snapshot = stored.snapshot
    if snapshot is not None and snapshot.versie == versie:
        return snapshot
    with stored.lock:  # one thread reads the registry, the others of the process wait for its copy
        snapshot = stored.snapshot
        if snapshot is None or snapshot.versie != versie:
            # The version is read before the rows: a change committed in between makes the copy look
            # older than it is (read again next time), never newer.
            snapshot = RegistrySnapshot(versie, _read(session))
            stored.snapshot = snapshot
        return snapshot


def _stored_for(engine: Engine) -> _Stored:
    with _lock:
        stored = _per_database.get(engine)
        if stored is None:
            stored = _per_database[engine] = _Stored()
        return stored


def _read(session: Session) -> dict[str, PartijSnapshot]:
    P, S, M = models.Partij, models.PartijScope, models.Mandaat
    scopes: dict[str, dict[str, set[str]]] = {}
    for oin, soort, waarde in session.execute(select(S.partij_oin, S.soort, S.waarde)):
        scopes.setdefault(oin, {}).setdefault(soort, set()).add(waarde)
    mandaten: dict[str, list[MandaatSnapshot]] = {}
    for oin, certificaat_oin, valid_from, valid_until, acties in session.execute(
        select(M.partij_oin, M.certificaat_oin, M.geldig_van, M.geldig_tot, M.acties).order_by(M.id)
    ):
        mandaten.setdefault(oin, []).append(MandaatSnapshot(certificaat_oin, valid_from, valid_until, acties))
    partijen = {}
    for oin, soort, endpoint, actief, contactgegevens, procesfeiten in session.execute(
        select(P.oin, P.soort, P.endpoint, P.actief, P.contactgegevens_ontvangen, P.procesfeiten_ontvangen)
    ):
        partij, error = _domain(oin, soort, scopes.get(oin, {}), bool(contactgegevens), bool(procesfeiten))
        partijen[oin] = PartijSnapshot(
            oin, partij, error, endpoint, bool(actief), tuple(mandaten.get(oin, ()))
        )
    return partijen


def _domain(
    oin: str, soort: str, scopes: dict[str, set[str]], contactgegevens: bool, procesfeiten: bool = False
) -> tuple[Partij | None, ValueError | None]:
    try:
        partij = Partij(
            oin=oin,
            soort=PartijSoort(soort),
            brins=frozenset(scopes.get(SCOPE_BRIN, ())),
            gemeentecodes=frozenset(scopes.get(SCOPE_GEMEENTE, ())),
            rmc_regios=frozenset(scopes.get(SCOPE_RMC, ())),
            contactgegevens=contactgegevens,
            procesfeiten=procesfeiten,
        )
    except ValueError as error:
        return None, error
    return partij, None
