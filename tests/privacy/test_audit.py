"""The audit trail's chain on each database: appends, verifies, and finds every kind of tampering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from broker.audit import reader
from broker.audit.trail import OPERATOR, SOAP, AuditEvent, record_event
from broker.audit.verify import verify_chain
from broker.db import models
from broker.db.engine import make_engine, make_session_factory

T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
PUPIL_A, PUPIL_B = "a" * 64, "b" * 64
SCHOOL = "0000000700099XA00000"


def _fill(engine) -> None:
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        record_event(
            session,
            AuditEvent(
                SOAP,
                "aanleverenLeerlingen",
                "verwerkt",
                SCHOOL,
                "x serial 1",
                "urn:uuid:1",
                2027,
                {PUPIL_A, PUPIL_B},
                2,
            ),
            T0,
        )
        record_event(
            session,
            AuditEvent(SOAP, "opvragenStatus", "verwerkt", SCHOOL, None, "urn:uuid:2", 2027, {PUPIL_A}, 1),
            T0 + timedelta(minutes=1),
        )
        record_event(
            session,
            AuditEvent(OPERATOR, "vva keys rotate", "verwerkt", record_count=7),
            T0 + timedelta(days=1),
        )


def _allow_change(engine) -> None:
    """An attacker with database rights removes the append-only trigger first."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_record DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_record_no_update"))
            connection.execute(text("DROP TRIGGER audit_record_no_delete"))


def _check(engine):
    with make_session_factory(engine)() as session:
        return verify_chain(session)


def test_an_intact_chain_verifies(db_engine):
    _fill(db_engine)
    verdict = _check(db_engine)
    assert (verdict.intact, verdict.record_count) == (True, 3)
    with make_session_factory(db_engine)() as session:
        records = list(reader.records(session))
    assert [(r.sequence_number, r.operation, r.leerlingen, r.record_count) for r in records] == [
        (1, "aanleverenLeerlingen", 2, 2),
        (2, "opvragenStatus", 1, 1),
        (3, "vva keys rotate", 0, 7),
    ]
    with make_session_factory(db_engine)() as session:
        assert [r.sequence_number for r in reader.over_leerling(session, PUPIL_B, 2027)] == [1]
        assert [r.sequence_number for r in reader.records(session, "2027-03-02", None)] == [3]


def test_the_database_refuses_update_and_delete(db_engine):
    _fill(db_engine)
    for command in ("UPDATE audit_record SET record_count = 0", "DELETE FROM audit_record"):
        with pytest.raises(DBAPIError, match="append-only"), db_engine.begin() as connection:
            connection.execute(text(command))
    assert _check(db_engine).intact


def test_a_direct_update_is_found(db_engine):
    _fill(db_engine)
    _allow_change(db_engine)
    with db_engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_record SET partij_oin = '00000001000000000000' WHERE sequence_number = 2")
        )
    verdict = _check(db_engine)
    assert not verdict.intact
    assert verdict.record_count == 1
    assert verdict.error == "record 2: contents do not match its hash (altered)"


def test_a_deleted_row_is_found(db_engine):
    _fill(db_engine)
    _allow_change(db_engine)
    with db_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_leerling WHERE sequence_number = 2"))
        connection.execute(text("DELETE FROM audit_record WHERE sequence_number = 2"))
    assert _check(db_engine).error == "record 2 is missing (next present: 3)"


def test_a_recomputed_row_breaks_the_chain_after_it(db_engine):
    """Recomputing a changed record's own hash does not help: the next record points at the old one."""
    from broker.audit.trail import HASHED_FIELDS, record_hash

    _fill(db_engine)
    _allow_change(db_engine)
    with make_session_factory(db_engine).begin() as session:
        record = session.get(models.AuditRecord, 1)
        fields = {naam: getattr(record, naam) for naam in HASHED_FIELDS}
        fields["outcome"] = "Client.DK0002"
        session.execute(
            text("UPDATE audit_record SET outcome = :u, hash = :h WHERE sequence_number = 1"),
            {"u": "Client.DK0002", "h": record_hash(fields)},
        )
    assert _check(db_engine).error == "record 2: previous-hash does not match record 1"


def test_adding_a_leerling_to_a_row_is_found(db_engine):
    _fill(db_engine)
    with db_engine.begin() as connection:
        salt = connection.execute(
            text("SELECT salt FROM audit_leerling WHERE sequence_number = 2")
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO audit_leerling (sequence_number, cyclus_jaar, sleutel_hash, salt) VALUES (2, 2027, :h, :z)"
            ),
            {"h": "c" * 64, "z": salt},
        )
    assert _check(db_engine).error == "record 2: its pupils do not match its digest"


def test_after_purging_the_cyclus_the_chain_stays_valid(db_engine):
    _fill(db_engine)
    with make_session_factory(db_engine).begin() as session:
        session.add(models.Cyclus(jaar=2027, deadline=T0.date(), gesloten_op=T0))
        session.execute(text("DELETE FROM audit_leerling WHERE cyclus_jaar = 2027"))
        record_event(session, AuditEvent(OPERATOR, "vva cycle close", "verwerkt", cyclus_jaar=2027), T0)
    assert _check(db_engine).intact
    with make_session_factory(db_engine)() as session:
        assert reader.over_leerling(session, PUPIL_A, 2027) == []
        assert [r.leerlingen for r in reader.records(session)] == [None, None, 0, 0]


def test_moving_a_leerling_to_another_cyclus_is_found(db_engine):
    """Relabelling a record's pupils to another cycle hides them from ``vva audit pupil`` and from the
    purge of their own cycle, while the salted digest (over the pseudonyms only) still matches."""
    _fill(db_engine)
    with db_engine.begin() as connection:
        connection.execute(text("UPDATE audit_leerling SET cyclus_jaar = 2026 WHERE sequence_number = 2"))
    assert _check(db_engine).error == "record 2: its pupils are filed under another cycle"


def test_leerlingen_at_a_closed_cyclus_are_found(db_engine):
    """After the purge a closed cycle has no pupils left: one added afterwards is a forgery."""
    _fill(db_engine)
    with make_session_factory(db_engine).begin() as session:
        session.add(models.Cyclus(jaar=2027, deadline=T0.date(), gesloten_op=T0))
        session.execute(text("DELETE FROM audit_leerling WHERE cyclus_jaar = 2027"))
        record_event(session, AuditEvent(OPERATOR, "vva cycle close", "verwerkt", cyclus_jaar=2027), T0)
    with db_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_leerling (sequence_number, cyclus_jaar, sleutel_hash, salt) "
                "VALUES (2, 2027, :h, :z)"
            ),
            {"h": "c" * 64, "z": "0" * 32},
        )
    assert _check(db_engine).error == "record 2: pupils stored for a closed cycle"


def test_a_removed_chain_head_is_found(db_engine):
    """Without its head row the chain cannot be appended to (every audited request would fail) and a
    truncated tail could not be told from the end: verify must not call that intact."""
    _fill(db_engine)
    with db_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_head"))
    assert _check(db_engine).error == "the chain's head (audit_head) is missing"


def test_audit_pupil_asks_for_the_number_without_putting_it_on_the_command_line(tmp_path, database_url):
    """A number on the command line is in the shell history, in ``ps`` for every user of the machine and
    in sudo's log: ``vva audit pupil`` without a number asks for it, without echoing it."""
    from click.testing import CliRunner

    from broker.cli import main
    from broker.domain.identifiers import parse_leerlingnummer
    from broker.privacy.keys import load_keyring
    from tests.helpers import bsn, write_config

    config = write_config(tmp_path, database_url)
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "init", "--no-demo"]).exit_code == 0
    opened = runner.invoke(
        main, ["--config", str(config), "cycle", "open", "--year", "2027", "--demo-refdata"]
    )
    assert opened.exit_code == 0, opened.output
    number = bsn("55500001")
    output = runner.invoke(
        main, ["--config", str(config), "audit", "pupil", "--year", "2027"], input=f"{number}\n"
    )
    assert output.exit_code == 0, output.output
    assert "cycle 2027: 0 operations touched this pupil" in output.output
    assert number not in output.output
    pseudonym = load_keyring(tmp_path / "keys.json").pseudonym(parse_leerlingnummer(number, None))
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            assert session.scalars(select(models.AuditLeerling.sleutel_hash)).all() == [pseudonym]
    finally:
        engine.dispose()


def test_verify_while_the_broker_appends_reports_no_break(db_engine):
    """``vva audit verify`` from a timer on a live broker: a record appended while it reads (here: just
    before it reads the chain's head) is not a broken chain."""
    from sqlalchemy import event

    _fill(db_engine)
    sessions = make_session_factory(db_engine)
    added: list[int] = []

    def add_before_header(_conn, _cursor, statement, *_):
        if "FROM audit_head" in statement and not added:
            added.append(1)
            with sessions.begin() as session:
                added.append(record_event(session, AuditEvent(OPERATOR, "vva keys rotate", "verwerkt")))

    event.listen(db_engine, "before_cursor_execute", add_before_header)
    try:
        verdict = _check(db_engine)
    finally:
        event.remove(db_engine, "before_cursor_execute", add_before_header)
    assert added == [1, 4]
    assert verdict.intact, verdict.error
    assert _check(db_engine).record_count == 4


def test_a_row_beyond_the_head_is_found(db_engine):
    """A record inserted after the last one without moving the head is not a concurrent append."""
    from broker.audit.trail import record_hash

    _fill(db_engine)
    with make_session_factory(db_engine)() as session:
        previous = session.get(models.AuditRecord, 3).hash
    fields = {
        "sequence_number": 4,
        "recorded_at": "2027-03-03T08:00:00.000000Z",
        "cyclus_jaar": None,
        "source": OPERATOR,
        "partij_oin": None,
        "certificate": None,
        "operation": "vva keys rotate",
        "message_id": None,
        "record_count": 0,
        "outcome": "verwerkt",
        "subjects_digest": "",
        "previous_hash": previous,
    }
    with make_session_factory(db_engine).begin() as session:
        session.add(models.AuditRecord(**fields, hash=record_hash(fields)))
    assert _check(db_engine).error == "record 4 lies beyond the chain's head"


def test_marking_a_cyclus_closed_to_purge_leerlingen_is_found(db_engine):
    """``cyclus.gesloten_op`` is not part of the chain: setting it by hand and deleting the pupils of an
    open cycle would hide who looked at them from every inzageverzoek. Only ``vva cycle close`` closes
    a cycle, and it leaves its record in the chain."""
    _fill(db_engine)
    with make_session_factory(db_engine).begin() as session:
        session.add(models.Cyclus(jaar=2027, deadline=T0.date(), gesloten_op=T0))
        session.execute(text("DELETE FROM audit_leerling WHERE cyclus_jaar = 2027"))
    assert _check(db_engine).error == "record 1: its pupils do not match its digest"


def test_a_truncated_chain_is_found_with_a_head_noted_earlier(tmp_path, database_url):
    """Deleting the newest records and setting the head back leaves a chain that is consistent in itself:
    no check inside the database can tell. ``vva audit verify`` prints the head, to be kept outside the
    database (a ticket, the timer's log); ``--anchor`` with such a head finds the truncation."""
    from click.testing import CliRunner

    from broker.cli import main
    from tests.helpers import write_config

    config = write_config(tmp_path, database_url)
    runner = CliRunner()
    vva = lambda *args: runner.invoke(main, ["--config", str(config), *args])  # noqa: E731
    assert vva("init", "--no-demo").exit_code == 0
    engine = make_engine(database_url)
    try:
        _fill(engine)
        first = vva("audit", "verify")
        assert first.exit_code == 0, first.output
        header = first.output.split("head ")[1].strip()
        with make_session_factory(engine)() as session:
            assert header == f"3:{session.get(models.AuditRecord, 3).hash}"
        _allow_change(engine)
        with engine.begin() as connection:
            previous = connection.execute(
                text("SELECT hash FROM audit_record WHERE sequence_number = 2")
            ).scalar_one()
            connection.execute(text("DELETE FROM audit_record WHERE sequence_number = 3"))
            connection.execute(text("UPDATE audit_head SET counter = 2, last_hash = :h"), {"h": previous})
    finally:
        engine.dispose()
    assert vva("audit", "verify").exit_code == 0  # consistent in itself
    later = vva("audit", "verify", "--anchor", header)
    assert later.exit_code == 1
    assert "record 3 no longer carries the anchored hash (chain truncated or rewritten)" in later.output


def test_audit_pupil_for_a_cyclus_without_data_leaves_no_pseudonym(tmp_path, database_url):
    """A mistyped ``--year`` (2207 for 2027) names a cycle that holds nothing: answering it would file the
    pupil's pseudonym under a cycle that is not closed for 180 years (or, for a past year that never
    held data, never). Refused, and nothing is stored."""
    from click.testing import CliRunner

    from broker.cli import main
    from tests.helpers import bsn, write_config

    config = write_config(tmp_path, database_url)
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "init", "--no-demo"]).exit_code == 0
    output = runner.invoke(
        main, ["--config", str(config), "audit", "pupil", "--year", "2207"], input=f"{bsn('55500001')}\n"
    )
    assert output.exit_code == 1
    assert "cycle 2207 never held any data" in output.output
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            assert session.scalars(select(models.AuditLeerling)).all() == []
    finally:
        engine.dispose()
