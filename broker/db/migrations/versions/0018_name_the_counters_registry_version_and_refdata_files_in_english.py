"""name the change counter, the registry version, the audit head and the refdata file record in English

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 00:40:00

Issue 19: infrastructure is named in English (CONTRIBUTING.md). Four small tables follow the outbox
(migration 0017), each copied into a table named as the models name it, so every index, constraint
and sequence has the same name on SQLite and PostgreSQL (``TABLES`` has each old and new name):

- ``wijziging_teller`` → ``wijziging_counter`` (``laatste`` → ``last``): the change feed's position
  counter (``broker.db.commit_order``);
- ``register_versie`` → ``registry_version`` (``versie`` → ``version``), with the triggers on
  ``partij``, ``partij_scope`` and ``mandaat`` that renew it (migration 0011) made again under English
  names, since their body names the table;
- ``audit_kop`` → ``audit_head`` (``teller`` → ``counter``, ``laatste_hash`` → ``last_hash``);
- ``refdata_bestand`` → ``refdata_file`` (``soort`` → ``kind``, ``naam`` → ``name``, ``rijen`` →
  ``row_count``, ``geladen_op`` → ``loaded_at``).

Each is copied row for row in the migration's one transaction; none is referred to by another table.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


@dataclass(frozen=True)
class Table:
    old: str
    new: str
    #: (old column, new column, type), in the table's column order; ``id`` is the primary key.
    columns: tuple[tuple[str, str, sa.types.TypeEngine], ...]
    #: Columns with an index of their own (named ``ix_<table>_<column>``), by their new name.
    indexed: tuple[str, ...] = ()


TABLES = (
    Table(
        "wijziging_teller",
        "wijziging_counter",
        (("id", "id", sa.Integer()), ("laatste", "last", sa.BigInteger())),
    ),
    Table(
        "register_versie",
        "registry_version",
        (("id", "id", sa.Integer()), ("versie", "version", sa.String(32))),
    ),
    Table(
        "audit_kop",
        "audit_head",
        (
            ("id", "id", sa.Integer()),
            ("teller", "counter", sa.BigInteger()),
            ("laatste_hash", "last_hash", sa.String(64)),
        ),
    ),
    Table(
        "refdata_bestand",
        "refdata_file",
        (
            ("id", "id", Id),
            ("cyclus_jaar", "cyclus_jaar", sa.Integer()),
            ("soort", "kind", sa.String(30)),
            ("naam", "name", sa.String(300)),
            ("rijen", "row_count", sa.Integer()),
            ("geladen_op", "loaded_at", sa.DateTime(timezone=True)),
        ),
        indexed=("cyclus_jaar",),
    ),
)

#: The tables whose changes renew the registry version (migration 0011).
REGISTRY_TABLES = ("partij", "partij_scope", "mandaat")


def _move(table: Table, *, forward: bool) -> None:
    """Copy ``table`` into its table of the other name (``forward``: old → new), drop the one copied."""
    source, target = (table.old, table.new) if forward else (table.new, table.old)
    pairs = [(old, new, type_) if forward else (new, old, type_) for old, new, type_ in table.columns]
    op.create_table(
        target,
        *(sa.Column(name, type_, nullable=False) for _, name, type_ in pairs),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{target}")),
    )
    into = ", ".join(name for _, name, _ in pairs)
    select = ", ".join(name for name, _, _ in pairs)
    op.execute(f"INSERT INTO {target} ({into}) SELECT {select} FROM {source}")
    op.drop_table(source)
    renamed = {new: old for old, new, _ in table.columns}
    for column in table.indexed:
        name = column if forward else renamed[column]
        op.create_index(op.f(f"ix_{target}_{name}"), target, [name])
    if op.get_bind().dialect.name == "postgresql":
        # The copied ids are above the new table's fresh sequence: continue after the highest.
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{target}', 'id'), COALESCE(MAX(id), 0) + 1, false) "
            f"FROM {target}"
        )


def _drop_registry_triggers(postgresql: bool, function: str, trigger: str) -> None:
    for table in REGISTRY_TABLES:
        if postgresql:
            op.execute(f"DROP TRIGGER {table}_{trigger} ON {table}")
        else:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{trigger}_{action}")
    if postgresql:
        op.execute(f"DROP FUNCTION {function}()")


def _create_registry_triggers(postgresql: bool, function: str, trigger: str, table: str, column: str) -> None:
    """Renew ``table.column`` on every change to the registry, as migration 0011 made it."""
    if postgresql:
        op.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN UPDATE {table} SET {column} = md5(random()::text || clock_timestamp()::text) "
            "WHERE id = 1; RETURN NULL; END $$"
        )
        for registry_table in REGISTRY_TABLES:
            op.execute(
                f"CREATE TRIGGER {registry_table}_{trigger} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {registry_table} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
        return
    for registry_table in REGISTRY_TABLES:
        for action in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {registry_table}_{trigger}_{action.lower()} AFTER {action} ON {registry_table} "
                f"BEGIN UPDATE {table} SET {column} = lower(hex(randomblob(16))) WHERE id = 1; END"
            )


# Migration 0011's names (its SQLite triggers add the action: partij_register_insert, …).
OLD_TRIGGERS = ("vva_register_gewijzigd", "register_gewijzigd", "register")
NEW_TRIGGERS = ("vva_registry_changed", "registry_changed", "registry_changed")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    function, trigger, sqlite_trigger = OLD_TRIGGERS
    _drop_registry_triggers(postgresql, function, trigger if postgresql else sqlite_trigger)
    for table in TABLES:
        _move(table, forward=True)
    function, trigger, sqlite_trigger = NEW_TRIGGERS
    _create_registry_triggers(
        postgresql, function, trigger if postgresql else sqlite_trigger, "registry_version", "version"
    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    function, trigger, sqlite_trigger = NEW_TRIGGERS
    _drop_registry_triggers(postgresql, function, trigger if postgresql else sqlite_trigger)
    for table in reversed(TABLES):
        _move(table, forward=False)
    function, trigger, sqlite_trigger = OLD_TRIGGERS
    _create_registry_triggers(
        postgresql, function, trigger if postgresql else sqlite_trigger, "register_versie", "versie"
    )
