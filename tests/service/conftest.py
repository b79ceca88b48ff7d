"""The service layer against a real database (SQLite and PostgreSQL) with the demo data loaded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import broker.registry
from broker.domain.cycle import Kalender
from broker.privacy.sleutels import laad_sleutelbos, maak_sleutelbestand
from broker.refdata.laden import laad_demo
from broker.registry.repository import PartijRegister
from broker.registry.toml import laad_partijen
from broker.service.context import Aanroep, Verwerking

#: A fixed clock inside cycle 2027 (deadline 1 April 2027), after the deadline.
NU = datetime(2027, 5, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
def sleutelbos(tmp_path):
    maak_sleutelbestand(tmp_path / "sleutels.json")
    return laad_sleutelbos(tmp_path / "sleutels.json")


@pytest.fixture
def demo_session(db_session):
    laad_demo(db_session, 2027)
    laad_partijen(db_session, Path(broker.registry.__file__).parent / "demo-partijen.toml")
    db_session.commit()
    return db_session


@pytest.fixture
def verwerking(demo_session, sleutelbos):
    return Verwerking(demo_session, sleutelbos, Kalender(), nu=NU)


@pytest.fixture
def aanroep(demo_session):
    def maak(oin: str) -> Aanroep:
        partij = PartijRegister(demo_session).zoek(oin)
        assert partij is not None
        return Aanroep(partij=partij, message_id="urn:uuid:00000000-0000-4000-8000-000000000000")

    return maak
