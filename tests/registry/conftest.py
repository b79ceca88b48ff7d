"""Fixtures for the party-registry tests: a migrated database on SQLite and on PostgreSQL.

PostgreSQL: ``VVA_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
Each test gets its own schema ``t_<hex>`` (dropped afterwards), so tests never see each other's rows;
when the server cannot be reached the PostgreSQL variants skip with "PostgreSQL not reachable".
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class RegistryDb:
    """A migrated, empty database: ``url`` for a vva.toml, ``engine`` for direct use."""

    url: str
    engine: Engine


@pytest.fixture
def registry_db(database_url: str, db_engine: Engine) -> RegistryDb:
    """A migrated database on each backend (ids "sqlite" and "postgresql"; tests/conftest.py)."""
    return RegistryDb(database_url, db_engine)


@pytest.fixture
def registry_session(db_session: Session) -> Session:
    """A session on a fresh, migrated database (SQLite and PostgreSQL)."""
    return db_session
