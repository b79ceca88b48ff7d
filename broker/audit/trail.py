"""Appending to the audit trail: one hash-chained record per operation on personal data.

AVG art. 5 lid 2 and art. 32 (accountability, logging), the brief ("every transaction on personal data
can be traced afterwards"). A record says when, which party (OIN) with which certificate, which
operation, which pupils (pseudonyms, in ``audit_leerling``), how many records, the wsa:MessageID and the
outcome. ``hash`` = SHA-256 over the record's fields and the previous record's hash, so a change to any
stored record breaks the chain (``broker.audit.verify``). The pupils enter the hash only through a
salted digest; when the yearly purge deletes their pseudonyms and salts, the digest no longer links to
anyone, and the chain still verifies.

The record is written in the caller's transaction: it exists exactly when the operation's effect was
committed. Appending takes the lock on the chain head (``audit_head``), so concurrent transactions chain
in commit order; callers append as the last step of their transaction to keep that lock short.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from broker.db import models

BEGIN_HASH = "0" * 64
#: Fields of ``audit_record`` that the hash covers, in this order (the hash itself excluded).
HASHED_FIELDS = (
    "sequence_number",
    "recorded_at",
    "cyclus_jaar",
    "source",
    "partij_oin",
    "certificate",
    "operation",
    "message_id",
    "record_count",
    "outcome",
    "subjects_digest",
    "previous_hash",
)

SOAP, PUSH, OPERATOR = "soap", "push", "beheer"
#: The operation of the record ``vva cycle close`` appends: the chain's own proof that a cycle was closed.
CYCLUS_CLOSE = "vva cycle close"


@dataclass
class AuditEvent:
    """One operation to record.

    ``source``: "soap" (a request), "push" (a delivery to a receiver) or "beheer" (an operator command);
    ``partij_oin``: the principal (wsa:From, the receiver of a push) or None for an operator command;
    ``certificate``: the authenticating certificate as "OIN serial <hex>"; ``operation``: the operation
    name or command; ``leerlingen``: pseudonyms (HMAC hex) of the pupils read or written; ``record_count``: the
    number of records handled (may exceed the pupils: one pupil, several registrations).
    """

    source: str
    operation: str
    outcome: str
    partij_oin: str | None = None
    certificate: str | None = None
    message_id: str | None = None
    cyclus_jaar: int | None = None
    leerlingen: set[str] = field(default_factory=set)
    record_count: int = 0


def timestamp(moment: datetime) -> str:
    """``moment`` as the fixed-width ISO 8601 UTC text stored and hashed (sortable as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(fields: dict) -> str:
    """SHA-256 (hex) of the canonical JSON of ``fields`` restricted to ``HASHED_FIELDS``."""
    content = json.dumps([fields[name] for name in HASHED_FIELDS], separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(content.encode()).hexdigest()


def subjects_digest(salt: str, pseudonyms: Iterable[str]) -> str:
    """SHA-256 (hex) of the salt and the sorted pseudonyms; "" for an operation that touched no pupil."""
    list_ = sorted(pseudonyms)
    if not list_:
        return ""
    return hashlib.sha256("\n".join([salt, *list_]).encode()).hexdigest()


# Built once (an audited request runs them all); Core on the tables, on the session's connection.
_HEAD, _CYCLUS = models.AuditHead.__table__, models.Cyclus.__table__
_RECORD = models.AuditRecord.__table__.insert()
_LEERLING = models.AuditLeerling.__table__.insert()
_TAKE_HEAD = (
    _HEAD.update()
    .where(_HEAD.c.id == 1)
    .values(counter=_HEAD.c.counter + 1)
    .returning(_HEAD.c.counter, _HEAD.c.last_hash)
)
_NEW_HEAD = _HEAD.update().where(_HEAD.c.id == 1)
_CLOSED = select(_CYCLUS.c.gesloten_op.is_not(None)).where(_CYCLUS.c.jaar == bindparam("jaar"))


def record_event(session: Session, event: AuditEvent, moment: datetime | None = None) -> int:
    """Append ``event`` to the chain in ``session``'s transaction; returns its ``sequence_number``.

    Raises ``ValueError`` when pupils were touched but no cycle is given (their pseudonyms must be
    purgeable with that cycle). Database errors propagate: an operation whose audit record cannot be
    written must not commit either.
    """
    if event.leerlingen and event.cyclus_jaar is None:
        raise ValueError("an audit record about pupils needs the cycle they belong to")
    header = _take_header(session)
    if event.leerlingen and _closed(session, event.cyclus_jaar):
        # The purge deleted this cycle's pseudonyms for good; storing one now would outlive it. Checked
        # under the head's lock, which ``vva cycle close`` holds until it commits.
        event = replace(event, leerlingen=set())
    salt = secrets.token_hex(16)
    fields = {
        "sequence_number": header.counter,
        "recorded_at": timestamp(moment or datetime.now(UTC)),
        "cyclus_jaar": event.cyclus_jaar,
        "source": event.source,
        "partij_oin": event.partij_oin,
        "certificate": event.certificate,
        "operation": event.operation,
        "message_id": event.message_id,
        "record_count": event.record_count,
        "outcome": event.outcome[:40],
        "subjects_digest": subjects_digest(salt, event.leerlingen),
        "previous_hash": header.last_hash,
    }
    fields["hash"] = record_hash(fields)
    connection = session.connection()
    connection.execute(_RECORD, fields)
    if event.leerlingen:
        connection.execute(
            _LEERLING,
            [
                {
                    "sequence_number": header.counter,
                    "cyclus_jaar": event.cyclus_jaar,
                    "sleutel_hash": h,
                    "salt": salt,
                }
                for h in sorted(event.leerlingen)
            ],
        )
    connection.execute(_NEW_HEAD, {"last_hash": fields["hash"]})
    return header.counter


def _closed(session: Session, jaar: int | None) -> bool:
    return session.connection().execute(_CLOSED, {"jaar": jaar}).scalar() or False


@dataclass(frozen=True)
class _ChainHead:
    counter: int
    last_hash: str


def _take_header(session: Session) -> _ChainHead:
    # Write and read in one statement: the UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite)
    # before the previous hash is read, so two transactions can never chain onto the same record.
    counter, last = session.connection().execute(_TAKE_HEAD).one()
    return _ChainHead(counter, last)
