"""The message log: every inbound and outbound message, raw, with its addressing and outcome.

The pipeline writes an inbound row in the same transaction as everything the message causes, and
before it (``log_request``): the business effect commits together with the logged message or not at
all, so no effect exists without its message, and a request costs one commit (issue 18). When the
message is refused or that transaction fails, the pipeline rolls it back and writes the row again
with the fault, in a transaction of its own, so a refused message is kept too
(docs/architecture.md, "Fixed requirements").

A request whose process is killed before that transaction commits (gunicorn's timeout, OOM) leaves
nothing: no effect, no row; its sender got no answer and sends it again (Edukoppeling F7), and that
copy is logged. ``log_received`` commits a bare row (uitkomst ``ontvangen``) at once, as versions
before issue 18 did for every request; such a row left ``ontvangen`` by a killed process is marked
``afgebroken`` at the next start (``mark_aborted``), so an operator can tell it from a request still
running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from broker.db.models import Bericht


class Cipher(Protocol):
    """What storage needs to keep message bytes encrypted: the installation's keys
    (``broker.privacy.keys.Keyring`` is one). Declared here so that storage depends on no
    key-management module: the keys are handed in by the caller."""

    def encrypt_data(self, data: bytes) -> bytes: ...

    def decrypt_data(self, blob: bytes) -> bytes: ...


@dataclass(frozen=True)
class Header:
    """The addressing of one message, as far as it could be read."""

    dienst: str | None = None
    action: str | None = None
    afzender_oin: str | None = None
    ontvanger_oin: str | None = None
    certificaat_oin: str | None = None
    message_id: str | None = None
    relates_to: str | None = None


def _fits(value: str | None, field: str) -> str | None:
    # Values come from the sender: never let one overflow its column (PostgreSQL refuses, SQLite
    # would not), so that the same input gets the same answer on every database.
    length = _LENGTHS[field]
    return value if value is None or len(value) <= length else value[: length - 1] + "…"


def _columns(header: Header) -> dict[str, str | None]:
    return {field: _fits(value, field) for field, value in vars(header).items()}


# Built once: these run for every request, and building a statement costs more than running it
# (bench/request_profile.py). Core on the table, executed on the session's connection, bypasses the ORM.
_BERICHT_TABLE = Bericht.__table__
_INSERT = _BERICHT_TABLE.insert().returning(_BERICHT_TABLE.c.id)
_LENGTHS = {k.name: k.type.length for k in _BERICHT_TABLE.c if getattr(k.type, "length", None)}


def read_content(message: Bericht, keyring: Cipher) -> bytes:
    """The raw bytes of a logged message (decrypted; rows from before encryption are as stored)."""
    return keyring.decrypt_data(message.inhoud) if message.versleuteld else message.inhoud


def log_received(
    sessions: sessionmaker[Session],
    raw: bytes,
    dienst: str | None,
    keyring: Cipher,
    tijdstip: datetime | None = None,
) -> int:
    """Persist the raw request (uitkomst ``ontvangen``), encrypted, and return its id; commits at once.

    Messages carry BSNs: the bytes are kept whole (they are the evidence) but only as AES-GCM
    ciphertext under the installation's key (AVG art. 32). ``tijdstip`` (default now): the moment the
    request is processed at, so that the message and its effect fall in the same cycle."""
    with sessions.begin() as session:
        return _add(session, Header(dienst=dienst), "in", tijdstip, "ontvangen", None, raw, keyring)


def log_request(
    session: Session,
    raw: bytes,
    header: Header,
    uitkomst: str,
    reason: str | None,
    http_status: int,
    keyring: Cipher,
    tijdstip: datetime,
) -> int:
    """Persist the raw request, encrypted, with what was read of it and how it ended, in ``session``'s
    transaction; returns its id. One INSERT: the pipeline calls it once the outcome is known, before
    the business effect it is the evidence of (``verwerkt``, ``herhaald``) or together with the fault
    it was refused with (its faultcode, ``reden`` the audit class, never payload values)."""
    return _add(session, header, "in", tijdstip, uitkomst, http_status, raw, keyring, reason)


#: The outcome of a request whose process died before it was answered (killed, crashed, OOM).
ABORTED = "afgebroken"
#: A row still ``ontvangen`` after this long belongs to no running request: gunicorn kills a request
#: after its 60 s timeout, so another node's request in flight is never marked.
ABORTED_AFTER = timedelta(minutes=10)


def mark_aborted(sessions: sessionmaker[Session], now: datetime | None = None) -> int:
    """Mark inbound rows left ``ontvangen`` by a request killed mid-flight as ``afgebroken``; returns
    how many. Run at start-up (``serve_forever``); rows younger than ``ABORTED_AFTER`` are left alone."""
    limit = (now or datetime.now(UTC)) - ABORTED_AFTER
    with sessions.begin() as session:
        return session.execute(
            update(Bericht)
            .where(Bericht.richting == "in", Bericht.uitkomst == "ontvangen", Bericht.tijdstip < limit)
            .values(uitkomst=ABORTED, reden="request ended without an outcome (process stopped)")
            .execution_options(synchronize_session=False)
        ).rowcount


def log_sent(
    session: Session,
    raw: bytes,
    header: Header,
    uitkomst: str,
    http_status: int | None,
    keyring: Cipher,
    richting: str = "uit",
    tijdstip: datetime | None = None,
) -> int:
    """Persist a message the broker sent (a response, a fault, a push) — or, with ``richting="in"``, a
    partner's answer to a push — encrypted, in ``session``'s transaction; returns its id. ``tijdstip``
    (default now): for an answer, the moment its request was processed at (the yearly purge goes by
    that time)."""
    return _add(session, header, richting, tijdstip, uitkomst, http_status, raw, keyring)


def _add(
    session: Session,
    header: Header,
    richting: str,
    tijdstip: datetime | None,
    uitkomst: str,
    http_status: int | None,
    raw: bytes,
    keyring: Cipher,
    reden: str | None = None,
) -> int:
    values = {
        **_columns(header),
        "richting": richting,
        "tijdstip": tijdstip or datetime.now(UTC),
        "uitkomst": uitkomst,
        "http_status": http_status,
        "reden": _fits(reden, "reden"),
        "inhoud": keyring.encrypt_data(raw),
        "versleuteld": True,
    }
    return session.connection().execute(_INSERT, values).scalar_one()
