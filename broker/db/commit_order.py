"""Positions in commit order: the change feed's ``volgnummer`` and the outbox's ``id``.

A follower of ``opvragenWijzigingen`` keeps the last position it read and asks for those after it.
That is only safe if no change can become visible below a position a follower has already passed.
A number drawn when the row is inserted (a PostgreSQL sequence) does not give that: two transactions
draw 10 and 11, the one with 11 commits first, a follower reads 11 and moves its cursor past 10, which
commits a moment later and is never read (issue 14: 0.2–1 % of the changes were lost under load).

So the rows are not inserted when the service layer records them. ``add_in_commit_order`` keeps them
with the session; at commit (``before_commit`` of the outermost transaction), after everything else
is flushed, one statement

    UPDATE wijziging_counter SET last = last + n WHERE id = 1 RETURNING last

takes the transaction's n feed positions, and only then are the rows inserted. Why that is enough:

1. The UPDATE locks the counter row until the transaction ends (PostgreSQL: the row lock, held to
   commit or rollback; SQLite: the database's one write lock, held from the transaction's first write
   to its end). Allocations therefore happen one transaction at a time: a transaction T2 that takes
   positions after T1 does so only after T1 has ended.
2. PostgreSQL makes a commit visible to new snapshots before it releases the transaction's locks
   (ProcArrayEndTransaction precedes the lock release), and under READ COMMITTED (the engine's
   default) T2's UPDATE, having waited, reads T1's committed counter. So T2's positions are above
   T1's, and when T2 takes them T1's rows are already visible to every snapshot taken from then on.
   On SQLite commits are serial outright and a reader's snapshot (WAL) is a committed state.
3. Hence for any snapshot S (one follower's SELECT of the feed): if S sees a position p of T2, S was
   taken after T2 committed, so after T1 committed, so S sees every position below p that will ever
   be committed. The visible positions are always a prefix of the final sequence: a follower that has
   read up to cursor c has read every change <= c there will ever be, and every later change gets a
   position > c. Any page size, any number of pages, no change skipped and none read twice.
4. A transaction that rolls back rolls its counter UPDATE back too: its positions are handed out
   again, to rows of a later transaction, and were never visible before. Positions stay dense, and a
   cursor that was valid stays valid: the counter starts above every number ever given out
   (migration 0012) and only grows, also when a cycle's feed rows are purged (SQLite's rowid would
   have started again at 1 in an emptied table).
5. Nothing is waited for while the counter is held, so it is held briefly and cannot deadlock: the
   rest of the transaction is flushed before the UPDATE, and the rows inserted after it have keys
   no other transaction holds (positions from the counter, outbox ids from the sequence, random
   MessageIDs). The one lock a request takes earlier and still holds is the audit chain head
   (``broker.audit.trail``); the counter is always taken after it, never before.

Why not allocate under the audit head's lock: it is taken where ``record_event`` is called, not at commit,
and not every writer of the feed or the outbox appends to the audit chain in the same transaction
(``vva signals run`` queues pushes, tests and tools write through the service layer directly). The
counter, taken in ``before_commit``, holds for every writer whatever its entry point.

The outbox (``outbox_message``) is ordered per receiver and pupil by ``id``: the delivery worker
never sends a pupil's push before an earlier one to the same receiver is delivered or dead
(``broker.outbound.delivery_queue``). Its rows take the same step, so their ids, too, are drawn from the
sequence while the counter is held, and by 1–3 an id never becomes visible before a lower id of
another transaction that will commit. A push for a later commit thus never goes out before, or
alongside, one for an earlier commit, and the ``wijzigingId`` it carries (the pupil's highest feed
position, ``broker.outbound.rendering.render``) grows with what it tells.

Within the transaction that records them the rows are not in the database yet: a query of the feed
or the outbox in that same transaction does not see them (nothing in the broker reads them there).
A savepoint rolled back after recording a change leaves that change recorded; the feed then shows
the pupil once more with its current state, which is harmless, never a change too few.
"""

from __future__ import annotations

from sqlalchemy import bindparam, event
from sqlalchemy.orm import Session, SessionTransaction

from broker.db import models

_PENDING_KEY = "vva_commit_order"  # key in Session.info: the rows to insert at commit

_COUNTER_TABLE = models.WijzigingCounter.__table__
_TAKE_POSITIONS = (
    _COUNTER_TABLE.update()
    .where(_COUNTER_TABLE.c.id == 1)
    .values(last=_COUNTER_TABLE.c.last + bindparam("count"))
    .returning(_COUNTER_TABLE.c.last)
)


def add_in_commit_order(session: Session, row: models.Wijziging | models.OutboxMessage) -> None:
    """Insert ``row`` when ``session``'s transaction commits, with its position in commit order:
    a feed row gets its ``volgnummer`` from the counter, an outbox row its ``id`` while the counter is
    held. Until then the row is not in the database."""
    session.info.setdefault(_PENDING_KEY, []).append(row)


@event.listens_for(Session, "before_commit")
def _allocate_positions(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint being released: the positions are taken when the whole transaction commits
    rows = session.info.pop(_PENDING_KEY, None)
    if not rows:
        return
    session.flush()  # everything else first: no lock of another transaction is waited for below
    feed = [r for r in rows if isinstance(r, models.Wijziging)]
    last = session.connection().execute(_TAKE_POSITIONS, {"count": len(feed)}).scalar_one()
    for position, row in enumerate(feed, start=last - len(feed) + 1):
        row.volgnummer = position
    session.add_all(rows)
    session.flush()


@event.listens_for(Session, "after_transaction_end")
def _forget_on_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)  # rolled back (or committed): nothing is carried over
