"""A database at an older migration (hostile review of migrations 0017/0018): ``vva serve`` refuses
with one line that says to run ``vva init``, instead of serving requests that all fail, and the outbox
commands bring the schema up to date first, as the other commands do, instead of a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from alembic import command
from click.testing import CliRunner

from broker.cli import main
from broker.db.engine import make_engine
from broker.db.migrate import alembic_config, revision_behind
from tests.helpers import free_port, write_config


def _demo_at_0016(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'vva.sqlite3'}"
    config = write_config(tmp_path, database_url, profile="2W-be-S")
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    engine = make_engine(database_url)
    command.downgrade(alembic_config(engine), "0016")
    return config, engine


def test_serve_refuses_a_database_at_an_older_migration_with_one_line(tmp_path):
    config, engine = _demo_at_0016(tmp_path)
    current, head = revision_behind(engine)

    outcome = subprocess.run(
        [sys.executable, "-m", "broker", "serve", "--port", str(free_port())],
        env={**os.environ, "VVA_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (outcome.returncode, outcome.stdout) == (1, "")  # no WSDL address before the refusal
    assert outcome.stderr == (
        f"Error: refusing to serve: the database schema is at revision 0016, this vva needs {head}; "
        "run 'vva init' first (it migrates the database, and keeps what is there)\n"
    )
    assert current == "0016" and revision_behind(engine) == ("0016", head)  # serving changed nothing
    engine.dispose()


def test_the_outbox_commands_bring_an_older_schema_up_to_date_first(tmp_path):
    config, engine = _demo_at_0016(tmp_path)

    result = CliRunner().invoke(main, ["--config", str(config), "outbox", "list"])

    assert (result.exit_code, result.exception) == (0, None), result.output
    assert revision_behind(engine) is None
    engine.dispose()
