"""A database (SQLite and PostgreSQL) holding the hand-computable cycle of ``scenario``."""

from __future__ import annotations

import pytest

from tests.rapportage.scenario import bouw_cyclus
from tests.service.conftest import demo_session, keyring  # noqa: F401 — fixtures used below


@pytest.fixture
def cyclus_sessie(demo_session, keyring):  # noqa: F811
    bouw_cyclus(demo_session, keyring)
    return demo_session
