"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import sqlite3
import time
from datetime import date, datetime
from functools import partial
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker


def make_engine(database_url: str) -> Engine:
    """Create an engine for ``database_url`` (``sqlite:///path`` or ``postgresql+psycopg://…``).

    For SQLite the parent directory is created, foreign keys are switched on and WAL is used so a
    reader never blocks the single writer (SQLite has no ``SKIP LOCKED``, so it runs one outbox worker).
    For PostgreSQL a pooled connection idle for ``PING_AFTER_IDLE_S`` or more is checked before use.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url)
    event.listen(engine, "checkin", _given_back)
    event.listen(engine, "checkout", partial(_ping_after_rest, engine.dialect))
    return engine


def _register_sqlite_adapters() -> None:
    """Bind ``date`` and ``datetime`` values as the text sqlite3's default adapters gave them
    (``date.isoformat()``, ``datetime.isoformat(" ")``), registered explicitly: Python 3.12 deprecated
    those defaults. SQLAlchemy's Date and DateTime columns format their values themselves; this is for
    values bound to plain ``text()`` SQL (migrations, tests), which must keep comparing equal to what
    is stored. Process-wide, like the defaults it replaces."""
    sqlite3.register_adapter(date, date.isoformat)
    sqlite3.register_adapter(datetime, lambda value: value.isoformat(" "))


_register_sqlite_adapters()


#: Seconds a pooled PostgreSQL connection may have been idle before it is checked at checkout.
PING_AFTER_IDLE_S = 10.0


def _given_back(_dbapi_connection, record) -> None:
    record.info["teruggegeven_op"] = time.monotonic()


def _ping_after_rest(dialect, dbapi_connection, record, _proxy) -> None:
    """Check a connection that sat idle in the pool (PostgreSQL restarted, a firewall dropped it) before
    it is used; a pool raising ``DisconnectionError`` here retries with a fresh connection.

    Not every checkout, as ``pool_pre_ping`` would: under load a connection is never idle for long,
    and a ping per checkout was a round trip per transaction (bench/README.md). A connection that
    breaks while in use makes that one request fail retryably (DK0051) and the pool start afresh."""
    given_back = record.info.get("teruggegeven_op")
    if given_back is None or time.monotonic() - given_back < PING_AFTER_IDLE_S:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as error:
        raise DisconnectionError("pooled connection is gone") from error


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose sessions keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
