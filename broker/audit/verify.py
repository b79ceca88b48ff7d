"""Verifying the audit chain (``vva audit verify``).

Every record's hash must equal the SHA-256 of its fields and the previous record's hash, the sequence
numbers must run without a gap from 1 to the chain head, and — for a cycle that is not closed — the
pupils stored with a record must reproduce its salted digest, be filed under the record's cycle (that is
what ``vva audit pupil`` and the purge select on), and be gone once that cycle is closed. A direct
UPDATE, DELETE or INSERT in ``audit_record``, a pseudonym added to, removed from or moved to another
cycle in ``audit_leerling``, is found and reported with the first record where the chain breaks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.audit.trail import (
    BEGIN_HASH,
    CYCLUS_CLOSE,
    HASHED_FIELDS,
    OPERATOR,
    record_hash,
    subjects_digest,
)
from broker.db import models

_BATCH = 5_000


@dataclass(frozen=True)
class Verdict:
    """The outcome of a verification: ``error`` is None when the chain is intact, else what broke where."""

    record_count: int
    error: str | None
    #: The hash of the last record checked: with ``record_count``, the head to anchor outside.
    header_hash: str = ""

    @property
    def header(self) -> str:
        """The verified head as "N:HASH", for ``vva audit verify --anchor``."""
        return f"{self.record_count}:{self.header_hash}"

    @property
    def intact(self) -> bool:
        return self.error is None


def verify_chain(session: Session) -> Verdict:
    """Check the whole chain, oldest first, in pieces of 5,000 records (constant memory).

    Safe beside a running broker: the chain is checked up to the head as read first (a record and the
    head's update commit together, so every record up to it is there); records appended meanwhile are
    left to the next run, unless the head does not cover them.
    """
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        # One snapshot for the whole check: a close or an append committing meanwhile changes nothing.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    R, K = models.AuditRecord, models.AuditHead
    header = session.execute(select(K.counter, K.last_hash).where(K.id == 1)).one_or_none()
    if header is None:
        return Verdict(0, "the chain's head (audit_head) is missing")
    # A cycle counts as closed (its pupils gone, its digests unchecked) by the record its close left in
    # the chain, not by ``cyclus.gesloten_op``, which is outside the chain and could be set by hand.
    closed = set(
        session.scalars(
            select(R.cyclus_jaar).where(
                R.source == OPERATOR, R.operation == CYCLUS_CLOSE, R.sequence_number <= header.counter
            )
        )
    )
    previous, expected, count = BEGIN_HASH, 1, 0
    while True:
        records = session.scalars(
            select(R)
            .where(R.sequence_number.between(expected, header.counter))
            .order_by(R.sequence_number)
            .limit(_BATCH)
        ).all()
        if not records:
            break
        involved = _involved(session, records[0].sequence_number, records[-1].sequence_number)
        for record in records:
            if record.sequence_number != expected:
                return Verdict(
                    count, f"record {expected} is missing (next present: {record.sequence_number})"
                )
            fields = {column: getattr(record, column) for column in HASHED_FIELDS}
            if record.previous_hash != previous:
                return Verdict(
                    count,
                    f"record {record.sequence_number}: previous-hash does not match record {expected - 1}",
                )
            if record_hash(fields) != record.hash:
                return Verdict(
                    count, f"record {record.sequence_number}: contents do not match its hash (altered)"
                )
            error = _involved_error(
                record, involved.get(record.sequence_number), record.cyclus_jaar in closed
            )
            if error:
                return Verdict(count, f"record {record.sequence_number}: {error}")
            previous, expected, count = record.hash, expected + 1, count + 1
    if header.counter != count or header.last_hash != previous:
        return Verdict(count, f"the chain ends at record {count}, but its head says {header.counter}")
    last = session.scalar(select(func.max(R.sequence_number)))
    if last is not None and last > header.counter and session.scalar(select(K.counter)) < last:
        return Verdict(count, f"record {last} lies beyond the chain's head")
    return Verdict(count, None, previous)


def check_anchor(session: Session, anchor: str) -> str | None:
    """Check a head noted earlier outside the database ("N:HASH", as ``Verdict.header``): None when record
    N still carries that hash, else what is wrong. Deleting the newest records and setting the head
    back, or rewriting the chain from some record on, leaves a chain consistent in itself: only an
    anchor kept elsewhere shows it. ``ValueError`` when ``anchor`` is not "N:HASH"."""
    sequence_number, _, expected = anchor.partition(":")
    if not sequence_number.isdigit() or len(expected) != 64:
        raise ValueError(f"an anchor is N:HASH as printed by vva audit verify, not {anchor!r}")
    R = models.AuditRecord
    if session.scalar(select(R.hash).where(R.sequence_number == int(sequence_number))) != expected:
        return f"record {sequence_number} no longer carries the anchored hash (chain truncated or rewritten)"
    return None


@dataclass
class _Involved:
    """The ``audit_leerling`` rows of one record: its salt, the pseudonyms and the cycles they are filed under."""

    salt: str = ""
    pseudonyms: list[str] = field(default_factory=list)
    years: set[int] = field(default_factory=set)


def _involved(session: Session, first: int, last: int) -> dict[int, _Involved]:
    L = models.AuditLeerling
    result: dict[int, _Involved] = defaultdict(_Involved)
    rows = session.execute(
        select(L.sequence_number, L.salt, L.sleutel_hash, L.cyclus_jaar).where(
            L.sequence_number.between(first, last)
        )
    )
    for sequence_number, salt, sleutel_hash, jaar in rows:
        involved = result[sequence_number]
        involved.salt = salt
        involved.pseudonyms.append(sleutel_hash)
        involved.years.add(jaar)
    return dict(result)


def _involved_error(record: models.AuditRecord, involved: _Involved | None, closed: bool) -> str | None:
    """What is wrong with the pupils stored with ``record``, or None."""
    if involved is not None and involved.years != {record.cyclus_jaar}:
        return "its pupils are filed under another cycle"
    if closed:
        # The purge deleted them with the cycle; the digest alone stays and links to no one.
        return "pupils stored for a closed cycle" if involved is not None else None
    involved = involved or _Involved()
    if subjects_digest(involved.salt, involved.pseudonyms) != record.subjects_digest:
        return "its pupils do not match its digest"
    return None
