"""Renaming the audit records to English (migration 0019, issue 19) on a database with an audit chain:
the chain made before still verifies (the hash covers the values, not the names), appending goes on
from its head, the records stay append-only under the new triggers, and the migration can be undone
and done again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from broker.audit.trail import (
    HASHED_FIELDS,
    OPERATOR,
    SOAP,
    AuditEvent,
    record_event,
    record_hash,
    subjects_digest,
    timestamp,
)
from broker.audit.verify import verify_chain
from broker.db.engine import make_engine, make_session_factory
from broker.db.migrate import alembic_config, upgrade

PUPIL = "ab" * 32

#: The hashed fields of migration 0018's ``audit_regel``, in ``HASHED_FIELDS``' order.
OLD_FIELDS = ("volgnummer", "tijdstip", "cyclus_jaar", "bron", "partij_oin", "certificaat", "operatie",
              "message_id", "aantal", "uitkomst", "betrokkenen_digest", "vorige_hash")  # fmt: skip


def _chain_at_0018(database_url: str):
    """A database at 0018 holding a chain of two records written as the code of then wrote them, and
    the hash of its last record."""
    engine = make_engine(database_url)
    upgrade(engine, "0018")
    previous = "0" * 64
    with engine.begin() as connection:
        records = [
            (SOAP, "aanleverenLeerlingen", 1, subjects_digest("salt", [PUPIL])),  # one pupil, below
            (OPERATOR, "vva keys rotate", 0, ""),  # no pupils
        ]
        for number, (source, operation, count, digest) in enumerate(records, start=1):
            values = [number, timestamp(datetime(2027, 3, number, 8, tzinfo=UTC)), 2027, source, "00000099000000000001",
                      None, operation, f"urn:uuid:{number}", count, "verwerkt", digest, previous]  # fmt: skip
            row = dict(zip(OLD_FIELDS, values, strict=True))
            row["hash"] = record_hash(dict(zip(HASHED_FIELDS, values, strict=True)))
            columns = ", ".join(row)
            connection.execute(text(f"INSERT INTO audit_regel ({columns}) VALUES (:{', :'.join(row)})"), row)
            previous = row["hash"]
        connection.execute(text("UPDATE audit_head SET counter = 2, last_hash = :h"), {"h": previous})
        connection.execute(
            text(
                "INSERT INTO audit_leerling (volgnummer, cyclus_jaar, sleutel_hash, zout) "
                "VALUES (1, 2027, :p, 'salt')"
            ),
            {"p": PUPIL},
        )
    return engine, previous


def _verdict(engine):
    with make_session_factory(engine)() as session:
        return verify_chain(session)


def test_a_chain_made_before_the_rename_still_verifies_and_goes_on(database_url):
    engine, last_hash = _chain_at_0018(database_url)
    upgrade(engine)

    after = _verdict(engine)
    assert (after.error, after.record_count, after.header_hash) == (None, 2, last_hash)
    assert "audit_regel" not in inspect(engine).get_table_names()
    event = AuditEvent(OPERATOR, "vva cycle open", "verwerkt", cyclus_jaar=2027)
    with make_session_factory(engine).begin() as session:
        assert record_event(session, event) == 3
    assert _verdict(engine).error is None and _verdict(engine).record_count == 3
    with engine.connect() as connection:
        pupils = connection.execute(text("SELECT sequence_number, salt FROM audit_leerling")).all()
    assert pupils == [(1, "salt")]
    for statement in ("UPDATE audit_record SET outcome = 'x'", "DELETE FROM audit_record"):
        with pytest.raises(DBAPIError, match="audit_record is append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    engine.dispose()


def test_the_audit_rename_can_be_undone_and_done_again(database_url):
    engine, head = _chain_at_0018(database_url)
    upgrade(engine)
    assert _verdict(engine).header_hash == head

    command.downgrade(alembic_config(engine), "0018")
    assert "audit_record" not in inspect(engine).get_table_names()
    with pytest.raises(DBAPIError, match="audit_regel is append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_regel"))

    upgrade(engine)
    assert (_verdict(engine).error, _verdict(engine).header_hash) == (None, head)
    engine.dispose()
