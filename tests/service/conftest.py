"""The service layer against a real database (SQLite and PostgreSQL) with the demo data loaded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import broker.registry
from broker.domain.cycle import Calendar
from broker.privacy.keys import load_keyring, make_key_file
from broker.refdata.load import load_demo
from broker.registry.repository import PartijRegistry
from broker.registry.toml import load_partijen
from broker.service.context import Caller, Processing

#: A fixed clock inside cycle 2027 (deadline 1 April 2027), after the deadline.
NOW = datetime(2027, 5, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
def keyring(tmp_path):
    make_key_file(tmp_path / "keys.json")
    return load_keyring(tmp_path / "keys.json")


@pytest.fixture
def demo_session(db_session):
    load_demo(db_session, 2027)
    load_partijen(db_session, Path(broker.registry.__file__).parent / "demo-partijen.toml")
    db_session.commit()
    return db_session


@pytest.fixture
def processing(demo_session, keyring):
    return Processing(demo_session, keyring, Calendar(), now=NOW)


@pytest.fixture
def call(demo_session):
    def make(oin: str) -> Caller:
        partij = PartijRegistry(demo_session).find(oin)
        assert partij is not None
        return Caller(partij=partij, message_id="urn:uuid:00000000-0000-4000-8000-000000000000")

    return make
