"""Renaming the change counter, the registry version, the audit head and the refdata file record to
English (migration 0018, issue 19) on a database in use: every value is kept, a change to the registry
still renews its version (the triggers were made again for the new table), and the migration can be
undone and done again."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, text

from broker.db.engine import make_engine
from broker.db.migrate import alembic_config, upgrade

LOADED = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
HEAD_HASH = "ab" * 32

#: Each table's name and the query of its values before and after the migration.
OLD = {
    "wijziging_teller": "SELECT id, laatste FROM wijziging_teller",
    "register_versie": "SELECT id, versie FROM register_versie",
    "audit_kop": "SELECT id, teller, laatste_hash FROM audit_kop",
    "refdata_bestand": "SELECT id, cyclus_jaar, soort, naam, rijen, geladen_op FROM refdata_bestand",
}
NEW = {
    "wijziging_counter": "SELECT id, last FROM wijziging_counter",
    "registry_version": "SELECT id, version FROM registry_version",
    "audit_head": "SELECT id, counter, last_hash FROM audit_head",
    "refdata_file": "SELECT id, cyclus_jaar, kind, name, row_count, loaded_at FROM refdata_file",
}


def _database_at_0017(database_url: str):
    engine = make_engine(database_url)
    upgrade(engine, "0017")
    with engine.begin() as connection:
        connection.execute(text("UPDATE wijziging_teller SET laatste = 41"))
        connection.execute(text("UPDATE register_versie SET versie = 'v-before'"))
        connection.execute(text("UPDATE audit_kop SET teller = 3, laatste_hash = :h"), {"h": HEAD_HASH})
        connection.execute(
            text(
                "INSERT INTO refdata_bestand (id, cyclus_jaar, soort, naam, rijen, geladen_op) "
                "VALUES (5, 2026, 'vo-vestigingen', '02.-alle-vestigingen-vo.csv', 1630, :t)"
            ),
            {"t": LOADED},
        )
    return engine


def _values(engine, queries: dict[str, str]) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            table: [tuple(_datetime(v) for v in row) for row in connection.execute(text(query))]
            for table, query in queries.items()
        }


def _datetime(value):
    """A DateTime value as a timezone-aware datetime: SQLite gives it back as text when read without
    the model, PostgreSQL as a datetime."""
    if isinstance(value, str) and len(value) == 25 and value[10] == " ":
        return datetime.fromisoformat(value)
    return value


def _version_after_adding_a_partij(engine, table: str, column: str, oin: str) -> str:
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO partij (oin, soort, naam, actief) VALUES (:oin, 'vo-school', 'School', true)"),
            {"oin": oin},
        )
        return connection.execute(text(f"SELECT {column} FROM {table}")).scalar_one()


EXPECTED = [
    [(1, 41)],
    [(1, "v-before")],
    [(1, 3, HEAD_HASH)],
    [(5, 2026, "vo-vestigingen", "02.-alle-vestigingen-vo.csv", 1630, LOADED)],
]


def test_the_four_tables_keep_their_values_under_english_names(database_url):
    engine = _database_at_0017(database_url)
    upgrade(engine)

    assert list(_values(engine, NEW).values()) == EXPECTED
    tables = set(inspect(engine).get_table_names())
    assert tables >= set(NEW) and not tables & set(OLD)
    assert [i["name"] for i in inspect(engine).get_indexes("refdata_file")] == ["ix_refdata_file_cyclus_jaar"]
    # The registry's version is renewed by the triggers made for the new table.
    version = _version_after_adding_a_partij(engine, "registry_version", "version", "00000099000000000001")
    assert version != "v-before" and len(version) == 32
    engine.dispose()


def test_the_rename_of_the_four_tables_can_be_undone_and_done_again(database_url):
    engine = _database_at_0017(database_url)
    upgrade(engine)

    command.downgrade(alembic_config(engine), "0017")
    assert list(_values(engine, OLD).values()) == EXPECTED
    assert not set(inspect(engine).get_table_names()) & set(NEW)
    version = _version_after_adding_a_partij(engine, "register_versie", "versie", "00000099000000000002")
    assert version != "v-before" and len(version) == 32

    upgrade(engine)
    values = _values(engine, NEW)
    assert values["wijziging_counter"] == [(1, 41)] and values["registry_version"] == [(1, version)]
    engine.dispose()
