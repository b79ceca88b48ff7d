"""Renaming the outbox to English (migration 0017, issue 19) on a database that holds pushes: every
queued and delivered push is kept with every value, the queue goes on with the next id, every index
and constraint has the name the models give it, and the migration can be undone and done again."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, select, text

from broker.db import models
from broker.db.engine import make_engine, make_session_factory
from broker.db.migrate import alembic_config, upgrade

T1 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
T2 = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)
OIN = "00000099000000000001"


def _database_at_0016(database_url: str):
    """A database at revision 0016 with a signal and two pushes: one delivered (for the signal), one
    waiting for its third attempt."""
    engine = make_engine(database_url)
    upgrade(engine, "0016")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO signaal (id, cyclus_jaar, partij_oin, soort, omschrijving, aangemaakt_op) "
                "VALUES (3, 2026, :oin, 'niet-aangemeld', '', :t)"
            ),
            {"oin": OIN, "t": T1},
        )
        connection.execute(
            text(
                "INSERT INTO uitgaand_bericht (id, ontvanger_oin, endpoint, operatie, volgorde_sleutel, "
                "signaal_id, message_id, inhoud, status, pogingen, volgende_poging_op, eerste_poging_op, "
                "bezig_tot, laatste_fout, aangemaakt_op, afgeleverd_op, inhoud_digest) VALUES "
                "(7, :oin, 'https://a.example/vva', 'ontvangenSignaal', 'signaal:3', 3, 'm-7', :c7, "
                " 'afgeleverd', 1, :t1, :t1, NULL, NULL, :t1, :t2, 'd7'), "
                "(9, :oin, 'https://a.example/vva', 'ontvangenWijziging', 'p9', NULL, 'm-9', :c9, "
                " 'wachtend', 2, :t2, :t1, NULL, 'transport timeout', :t1, NULL, 'd9')"
            ),
            {"oin": OIN, "c7": b"\x01seven", "c9": b"\x01nine", "t1": T1, "t2": T2},
        )
    return engine


def _rows(engine) -> list[tuple]:
    M = models.OutboxMessage
    columns = (M.id, M.receiver_oin, M.operation, M.ordering_key, M.signaal_id, M.message_id, M.content,
               M.status, M.attempts, M.next_attempt_at, M.first_attempt_at, M.claimed_until, M.last_error,
               M.created_at, M.delivered_at, M.content_digest)  # fmt: skip
    with make_session_factory(engine)() as session:
        return [
            tuple(v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v for v in row)
            for row in session.execute(select(*columns).order_by(M.id))
        ]


def _names(engine, table: str) -> dict[str, object]:
    found = inspect(engine)
    return {
        "columns": [c["name"] for c in found.get_columns(table)],
        # PostgreSQL lists a unique constraint's own index too: that one is checked as the constraint.
        "indexes": sorted(
            (i["name"], tuple(i["column_names"]))
            for i in found.get_indexes(table)
            if "duplicates_constraint" not in i
        ),
        "unique": [(u["name"], tuple(u["column_names"])) for u in found.get_unique_constraints(table)],
        "foreign": [(f["name"], tuple(f["constrained_columns"])) for f in found.get_foreign_keys(table)],
    }


def test_the_outbox_keeps_every_push_and_value_under_its_english_names(database_url):
    engine = _database_at_0016(database_url)
    upgrade(engine)

    assert _rows(engine) == [
        (7, OIN, "ontvangenSignaal", "signaal:3", 3, "m-7", b"\x01seven", "afgeleverd", 1, T1, T1, None, None, T1,
         T2, "d7"),
        (9, OIN, "ontvangenWijziging", "p9", None, "m-9", b"\x01nine", "wachtend", 2, T2, T1, None,
         "transport timeout", T1, None, "d9"),
    ]  # fmt: skip
    assert "uitgaand_bericht" not in inspect(engine).get_table_names()
    assert _names(engine, "outbox_message") == {
        "columns": ["id", "receiver_oin", "endpoint", "operation", "ordering_key", "message_id", "content",
                    "status", "attempts", "next_attempt_at", "claimed_until", "last_error", "created_at",
                    "delivered_at", "content_digest", "signaal_id", "first_attempt_at"],
        "indexes": [("ix_outbox_message_order", ("receiver_oin", "ordering_key", "id")),
                    ("ix_outbox_message_queue", ("status", "next_attempt_at"))],
        "unique": [("uq_outbox_message_message_id", ("message_id",))],
        "foreign": [("fk_outbox_message_signaal_id_signaal", ("signaal_id",))],
    }  # fmt: skip

    # The next push continues after the highest id (PostgreSQL: the new table's sequence was moved on).
    with make_session_factory(engine).begin() as session:
        push = models.OutboxMessage(
            receiver_oin=OIN, endpoint="https://a.example/vva", operation="ontvangenWijziging",
            ordering_key="p10", message_id="m-10", content=b"", status=models.WACHTEND, attempts=0,
            next_attempt_at=T2, created_at=T2,
        )  # fmt: skip
        session.add(push)
        session.flush()
        assert push.id == 10
    engine.dispose()


def test_the_outbox_rename_can_be_undone_and_done_again(database_url):
    engine = _database_at_0016(database_url)
    upgrade(engine)
    before = _rows(engine)

    command.downgrade(alembic_config(engine), "0016")
    assert "outbox_message" not in inspect(engine).get_table_names()
    old = _names(engine, "uitgaand_bericht")
    assert old["indexes"] == [
        ("ix_uitgaand_bericht_volgorde", ("ontvanger_oin", "volgorde_sleutel", "id")),
        ("ix_uitgaand_bericht_wachtrij", ("status", "volgende_poging_op")),
    ]
    assert old["unique"] == [("uq_uitgaand_bericht_message_id", ("message_id",))]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id, pogingen, laatste_fout FROM uitgaand_bericht ORDER BY id")).all() == [
            (7, 1, None),
            (9, 2, "transport timeout"),
        ]  # fmt: skip

    upgrade(engine)
    assert _rows(engine) == before
    engine.dispose()
