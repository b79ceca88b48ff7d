"""name the audit records and their columns in English

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 00:45:00

Issue 19: infrastructure is named in English (CONTRIBUTING.md). ``audit_regel`` becomes
``audit_record`` and its columns follow (``RECORD_COLUMNS``); in ``audit_leerling`` the reference to
it and the salt follow (``LEERLING_COLUMNS``); the append-only triggers are made again under English
names.

Renamed in place, not copied: ``audit_leerling`` refers to ``audit_record``, and a copy would have to
delete what the append-only triggers exist to protect. Both databases carry a table's rename through
to the foreign key that refers to it. The stored values, which the chain's hashes cover, do not
change, nor does the hash: it covers the values in the order of ``broker.audit.trail.HASHED_FIELDS``,
not their names, so every existing chain stays valid. On SQLite the primary and foreign key
constraints keep their old names inside the table's definition (SQLite cannot rename a constraint
without rebuilding the table, and rebuilding would mean deleting the records); nothing refers to them
by name.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Old column name → new column name in ``audit_regel`` / ``audit_record``.
RECORD_COLUMNS = {
    "volgnummer": "sequence_number",
    "tijdstip": "recorded_at",
    "bron": "source",
    "certificaat": "certificate",
    "operatie": "operation",
    "aantal": "record_count",
    "uitkomst": "outcome",
    "betrokkenen_digest": "subjects_digest",
    "vorige_hash": "previous_hash",
}
#: Old column name → new column name in ``audit_leerling``.
LEERLING_COLUMNS = {"volgnummer": "sequence_number", "zout": "salt"}


def _names(forward: bool) -> dict[str, str]:
    """The names of this migration's side (``forward``: the new ones) by role."""
    old = {
        "table": "audit_regel",
        "function": "vva_audit_alleen_toevoegen",
        "row_trigger": "audit_regel_alleen_toevoegen",
        "truncate_trigger": "audit_regel_niet_legen",
        "sqlite_trigger": "audit_regel_geen_{action}",
        "recorded_at_index": "ix_audit_regel_tijdstip",
        "leerling_index": "ix_audit_leerling_volgnummer",
        "primary_key": "pk_audit_regel",
        "foreign_key": "fk_audit_leerling_volgnummer_audit_regel",
    }
    new = {
        "table": "audit_record",
        "function": "vva_audit_append_only",
        "row_trigger": "audit_record_append_only",
        "truncate_trigger": "audit_record_no_truncate",
        "sqlite_trigger": "audit_record_no_{action}",
        "recorded_at_index": "ix_audit_record_recorded_at",
        "leerling_index": "ix_audit_leerling_sequence_number",
        "primary_key": "pk_audit_record",
        "foreign_key": "fk_audit_leerling_sequence_number_audit_record",
    }
    return new if forward else old


def _drop_triggers(postgresql: bool, names: dict[str, str]) -> None:
    table = names["table"]
    if postgresql:
        op.execute(f"DROP TRIGGER {names['truncate_trigger']} ON {table}")
        op.execute(f"DROP TRIGGER {names['row_trigger']} ON {table}")
        op.execute(f"DROP FUNCTION {names['function']}()")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER {names['sqlite_trigger'].format(action=action)}")


def _create_triggers(postgresql: bool, names: dict[str, str]) -> None:
    """Append-only in the database itself, as migration 0007 made it (AVG art. 32)."""
    table = names["table"]
    refusal = f"{table} is append-only"
    if postgresql:
        op.execute(
            f"CREATE FUNCTION {names['function']}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{refusal}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {names['row_trigger']} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {names['function']}()"
        )
        op.execute(
            f"CREATE TRIGGER {names['truncate_trigger']} BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {names['function']}()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {names['sqlite_trigger'].format(action=action.lower())} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{refusal}'); END"
        )


def _rename(forward: bool) -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    source, target = _names(not forward), _names(forward)
    record_columns = RECORD_COLUMNS if forward else {new: old for old, new in RECORD_COLUMNS.items()}
    leerling_columns = LEERLING_COLUMNS if forward else {new: old for old, new in LEERLING_COLUMNS.items()}

    _drop_triggers(postgresql, source)
    op.execute(f"ALTER TABLE {source['table']} RENAME TO {target['table']}")
    for old, new in record_columns.items():
        op.execute(f"ALTER TABLE {target['table']} RENAME COLUMN {old} TO {new}")
    for old, new in leerling_columns.items():
        op.execute(f"ALTER TABLE audit_leerling RENAME COLUMN {old} TO {new}")
    if postgresql:
        for kind in ("recorded_at_index", "leerling_index"):
            op.execute(f"ALTER INDEX {source[kind]} RENAME TO {target[kind]}")
        op.execute(
            f"ALTER TABLE {target['table']} RENAME CONSTRAINT {source['primary_key']} TO {target['primary_key']}"
        )
        op.execute(
            f"ALTER TABLE audit_leerling RENAME CONSTRAINT {source['foreign_key']} TO {target['foreign_key']}"
        )
    else:
        # SQLite renames no index: the same index again under the new name.
        op.execute(f"DROP INDEX {source['recorded_at_index']}")
        op.execute(f"DROP INDEX {source['leerling_index']}")
        recorded_at = record_columns["tijdstip"] if forward else "tijdstip"
        number = leerling_columns["volgnummer"] if forward else "volgnummer"
        op.create_index(target["recorded_at_index"], target["table"], [recorded_at])
        op.create_index(target["leerling_index"], "audit_leerling", [number])
    _create_triggers(postgresql, target)


def upgrade() -> None:
    _rename(forward=True)


def downgrade() -> None:
    _rename(forward=False)
