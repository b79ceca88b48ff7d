"""What every use case gets: who is calling, and the transaction it works in."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker.db import models
from broker.domain.cycle import Calendar, Cyclus
from broker.domain.visibility import Partij
from broker.errors import BrokerError
from broker.privacy.keys import Keyring
from broker.refdata.lookup import refdata_year


class NotAuthorised(BrokerError):
    """The caller may not do this (Edukoppeling Client.DK0002; docs/architecture.md, "Parties and what they may see").

    ``reason`` is for the message log and the ``detail`` of the fault: it says what to fix in terms
    of the request (a BRIN, a position in the batch), never a pupil number.
    """

    def __init__(self, reason: str, audit: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.audit = audit  # for the message log only: e.g. the OINs involved


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request.

    ``partij``: the principal (wsa:From OIN) as registered; ``certificaat_oin``: the OIN that
    authenticated the connection or signature (None on an unauthenticated 2W-be test service);
    ``message_id``: the request's wsa:MessageID; ``bericht_id``: its row in the message log.
    """

    partij: Partij
    message_id: str
    bericht_id: int | None = None
    certificaat_oin: str | None = None


@dataclass
class Processing:
    """One unit of work: the session (one transaction), the keys, the calendar and the clock."""

    session: Session
    keyring: Keyring
    calendar: Calendar
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: Pupils changed in this transaction (pseudonym → its latest change-feed row): the outbox
    #: announces them before the transaction commits.
    changed: dict[str, object] = field(default_factory=dict)
    #: Pupils (pseudonyms) whose data this transaction read or wrote, and how many records it handled:
    #: what the audit trail records about it (AVG art. 5 lid 2).
    involved: set[str] = field(default_factory=set)
    aantal: int = 0

    def touch(self, sleutel_hash: str) -> None:
        """Note that one record about pupil ``sleutel_hash`` was read or written (for the audit trail)."""
        self.involved.add(sleutel_hash)
        self.aantal += 1

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def cyclus(self) -> Cyclus:
        """The current cycle; its row is created on first use."""
        cyclus = self.calendar.cyclus_on(self.today)
        known = _known_cycli(self.session.get_bind())
        if cyclus.jaar in known:
            return cyclus
        created = self.session.info.setdefault("aangemaakte_cycli", set())
        if self.session.get(models.Cyclus, cyclus.jaar) is None:
            try:
                with self.session.begin_nested():
                    self.session.add(models.Cyclus(jaar=cyclus.jaar, deadline=cyclus.deadline))
                created.add(cyclus.jaar)
            except IntegrityError:
                pass  # a concurrent request created it first
        elif cyclus.jaar not in created:
            # Committed by another transaction, and cycle rows are never deleted: this process need
            # not look again. A row this session created may still be rolled back, so it is not noted.
            known.add(cyclus.jaar)
        return cyclus

    @property
    def refdata_year(self) -> int | None:
        """The cycle whose DUO reference data hold now (``broker.refdata.lookup``); cached per session."""
        return refdata_year(self.session, self.cyclus.jaar)

    def known_brins(self, brins: set[str]) -> set[str]:
        """Those of ``brins`` that are in the current cycle's DUO reference data (ended ones too)."""
        if not brins:
            return set()
        i = models.Instelling
        rows = self.session.scalars(
            select(i.brin).where(i.cyclus_jaar == self.refdata_year, i.brin.in_(brins))
        )
        return set(rows)

    def known_gemeenten(self) -> set[str] | None:
        """All gemeentecodes of the current cycle's reference data, or None when none is loaded (then only
        the format counts)."""
        g = models.Gemeente
        codes = set(self.session.scalars(select(g.code).where(g.cyclus_jaar == self.refdata_year)))
        return codes or None


_cycli: weakref.WeakKeyDictionary[Engine, set[int]] = weakref.WeakKeyDictionary()
_cycli_lock = threading.Lock()


def _known_cycli(engine: Engine) -> set[int]:
    """The years whose cycle row this process has seen committed in the database of ``engine``."""
    with _cycli_lock:
        return _cycli.setdefault(engine, set())
