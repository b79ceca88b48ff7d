"""A database (SQLite and PostgreSQL) holding the hand-computable cycle of ``scenario``."""

from __future__ import annotations

import pytest

from tests.rapportage.scenario import build_cyclus
from tests.service.conftest import demo_session, keyring  # noqa: F401 — fixtures used below


@pytest.fixture
def cyclus_session(demo_session, keyring):  # noqa: F811
    build_cyclus(demo_session, keyring)
    return demo_session
