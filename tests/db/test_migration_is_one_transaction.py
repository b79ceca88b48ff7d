"""A migration run that fails part-way leaves the database as it was (hostile review of 0017/0018).

env.py runs every migration of a run in one transaction. SQLite's Python driver used to open that
transaction only at the first INSERT/UPDATE/DELETE, so a CREATE TABLE or DROP TRIGGER before it was
committed on its own: a run of 0017 + 0018 that failed (or was killed) left ``outbox_message`` behind,
empty, at revision 0016, and every later run (every vva command migrates first) failed with "table
outbox_message already exists" until an operator dropped it by hand."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from broker.db.engine import make_engine
from broker.db.migrate import upgrade


def _failed_upgrade(database_url: str, revision: str):
    """A database at ``revision`` after a run to the newest that failed in 0018: a table stood in the
    way of its copy (``_run_again`` clears it and runs again)."""
    engine = make_engine(database_url)
    upgrade(engine, revision)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE refdata_file (x INTEGER)"))
    with pytest.raises(DBAPIError):
        upgrade(engine)
    return engine


def _run_again(engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE refdata_file"))
    upgrade(engine)


def test_a_failed_upgrade_from_0016_leaves_no_half_made_table_and_can_run_again(database_url):
    engine = _failed_upgrade(database_url, "0016")  # 0017 had done its work when 0018 failed

    tables = set(inspect(engine).get_table_names())
    assert "uitgaand_bericht" in tables
    assert "outbox_message" not in tables  # was left behind on SQLite, committed on its own
    _run_again(engine)  # was, on SQLite: "table outbox_message already exists"
    assert {"outbox_message", "refdata_file"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_a_failed_0018_keeps_the_registry_triggers_and_can_run_again(database_url):
    """0018's DROP TRIGGERs and its first CREATE TABLE come before any INSERT: on SQLite each used to
    commit on its own, so a failed run left the registry without its triggers at revision 0017, and the
    next run stopped at "no such trigger: partij_register_insert"."""
    engine = _failed_upgrade(database_url, "0017")

    assert "wijziging_counter" not in set(inspect(engine).get_table_names())
    _run_again(engine)  # was, on SQLite: "no such trigger: partij_register_insert"
    with engine.begin() as connection:
        before = connection.execute(text("SELECT version FROM registry_version")).scalar_one()
        connection.execute(
            text(
                "INSERT INTO partij (oin, soort, naam, actief) VALUES ('00000099000000000001', 'vo-school', 'A', true)"
            )
        )
        assert connection.execute(text("SELECT version FROM registry_version")).scalar_one() != before
    engine.dispose()
