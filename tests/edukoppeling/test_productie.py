"""Until the WS-Security gate exists, the broker refuses to run with production settings."""

from __future__ import annotations

import pytest

from broker.bootstrap import Omgeving
from broker.config import Settings
from broker.web.app import Broker


def test_weigert_productie_zonder_berichtbeveiliging(tmp_path):
    omgeving = Omgeving(Settings(environment="production", database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    with pytest.raises(RuntimeError, match="refusing to serve in production"):
        Broker(omgeving)
