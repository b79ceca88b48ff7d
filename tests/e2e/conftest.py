"""A real broker process on 127.0.0.1 with the demo parties and reference data, on each database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from broker.cli import main
from tests.helpers import broker_proces, schrijf_config


@pytest.fixture
def broker_url(database_url, tmp_path):
    config = schrijf_config(tmp_path, database_url)
    resultaat = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert resultaat.exit_code == 0, resultaat.output
    with broker_proces(config) as url:
        yield url
