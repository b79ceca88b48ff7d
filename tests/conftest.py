"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL: ``VVA_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
Each test gets its own schema, so tests never see each other's rows. When PostgreSQL cannot be
reached the PostgreSQL variants are skipped; ``.ci/run`` fails the build when that happens.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from broker.db.engine import make_engine, make_session_factory
from broker.db.migrate import upgrade

POSTGRES_URL = os.environ.get("VVA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

#: The shared/ folder beside the clone (CI and developers lay it out that way), or VVA_SHARED.
SHARED = Path(os.environ.get("VVA_SHARED", Path(__file__).resolve().parents[2] / "shared"))


def postgres_problem(url: str = POSTGRES_URL) -> str | None:
    """Why the PostgreSQL of ``url`` cannot be used for tests, in one line; None when it can. A server
    that is up without database ``test`` is told apart from no server at all: the fixes differ."""
    address = make_url(url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except OperationalError as error:
        # libpq reports no SQLSTATE for a refused connection, so the server's text decides as well.
        if (
            getattr(error.orig, "sqlstate", None) == "3D000"  # invalid_catalog_name
            or f'database "{address.database}" does not exist' in str(error.orig)
        ):
            return (
                f"PostgreSQL at {address.host}:{address.port} is up, but database `{address.database}` does not "
                f"exist (create it: createdb -h {address.host} -p {address.port} -U {address.username} {address.database})"
            )
        cause = (
            str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error.orig).__name__
        )
        return f"PostgreSQL server not reachable at {address.host}:{address.port} ({cause})"
    finally:
        engine.dispose()


def _postgres_reachable() -> bool:
    return postgres_problem() is None


def require_postgres(reachable: bool, url: str = POSTGRES_URL) -> None:
    """Skip when PostgreSQL is down, or fail when ``VVA_REQUIRE_POSTGRES`` is set (CI); the reason
    says whether the server or only database ``test`` is missing."""
    if reachable:
        return
    reason = postgres_problem(url) or "PostgreSQL not reachable"
    if os.environ.get("VVA_REQUIRE_POSTGRES"):
        pytest.fail(f"PostgreSQL required (VVA_REQUIRE_POSTGRES): {reason}")
    pytest.skip(reason)


@contextmanager
def postgres_schema():
    """A fresh PostgreSQL schema; yields a database URL whose connections use it; dropped after."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_reachable() -> bool:
    return _postgres_reachable()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path, postgres_reachable):
    """An empty database (URL) on each backend; the PostgreSQL one is a fresh schema, dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vva.sqlite3'}"
        return
    require_postgres(postgres_reachable)
    with postgres_schema() as url:
        yield url


@pytest.fixture
def db_engine(database_url):
    """A migrated, empty database on each backend."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(db_engine):
    """A session on ``db_engine``; rolled back and closed after the test."""
    session = make_session_factory(db_engine)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
