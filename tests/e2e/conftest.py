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
from tests.helpers import broker_process, write_config


@dataclass(frozen=True)
class DemoBroker:
    url: str
    pki: Path
    database_url: str = ""


@pytest.fixture
def demo_broker(database_url, tmp_path):
    config = write_config(tmp_path, database_url, profile="2W-be-S")
    result = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert result.exit_code == 0, result.output
    with broker_process(config) as url:
        yield DemoBroker(url, tmp_path / "pki", database_url)
