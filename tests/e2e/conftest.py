"""A real broker process on 127.0.0.1 with the demo parties, reference data and PKI, on each database.

The services run the standard profile 2W-be-S: every request is signed with the party's demo key
and every answer is verified with the broker's own verifier and trust store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from broker.cli import main
from tests.helpers import broker_proces, schrijf_config


@dataclass(frozen=True)
class DemoBroker:
    url: str
    pki: Path
    database_url: str = ""


@pytest.fixture
def demo_broker(database_url, tmp_path):
    config = schrijf_config(tmp_path, database_url, profile="2W-be-S")
    resultaat = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert resultaat.exit_code == 0, resultaat.output
    with broker_proces(config) as url:
        yield DemoBroker(url, tmp_path / "pki", database_url)
