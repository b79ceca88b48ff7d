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
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from broker.db.engine import make_engine, make_session_factory
from broker.db.migrate import upgrade

POSTGRES_URL = os.environ.get("VVA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

#: The shared/ folder beside the clone (CI and developers lay it out that way), or VVA_SHARED.
SHARED = Path(os.environ.get("VVA_SHARED", Path(__file__).resolve().parents[2] / "shared"))


def _postgres_bereikbaar() -> bool:
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect() as verbinding:
            verbinding.execute(text("SELECT 1"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def vereis_postgres(bereikbaar: bool) -> None:
    """Skip when PostgreSQL is down, or fail when ``VVA_REQUIRE_POSTGRES`` is set (CI)."""
    if bereikbaar:
        return
    if os.environ.get("VVA_REQUIRE_POSTGRES"):
        pytest.fail(f"PostgreSQL required (VVA_REQUIRE_POSTGRES) but not reachable at {POSTGRES_URL}")
    pytest.skip("PostgreSQL not reachable")


@contextmanager
def postgres_schema():
    """A fresh PostgreSQL schema; yields a database URL whose connections use it; dropped after."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    beheer = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with beheer.connect() as verbinding:
            verbinding.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with beheer.connect() as verbinding:
            verbinding.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        beheer.dispose()


@pytest.fixture(scope="session")
def postgres_bereikbaar() -> bool:
    return _postgres_bereikbaar()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path, postgres_bereikbaar):
    """An empty database (URL) on each backend; the PostgreSQL one is a fresh schema, dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vva.sqlite3'}"
        return
    vereis_postgres(postgres_bereikbaar)
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
