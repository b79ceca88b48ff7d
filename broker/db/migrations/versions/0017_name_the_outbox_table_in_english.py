"""name the outbox table and its columns in English

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 00:20:00

Issue 19: infrastructure is named in English (CONTRIBUTING.md). ``uitgaand_bericht`` becomes
``outbox_message``; its columns follow (``pogingen`` → ``attempts``, ``volgende_poging_op`` →
``next_attempt_at``, …, see ``COLUMNS``); ``signaal_id``, ``message_id``, ``endpoint``, ``id`` and
``status`` (and the stored status values) keep their names.

The rows are copied into a new table rather than renamed in place, on both databases: SQLite cannot
rename an index or a constraint, and a copy gives every index, constraint and sequence the name the
models' naming convention gives them, so a later migration finds them by that name on either database.
The outbox holds pushes waiting to be sent and the record of sent ones; nothing else refers to it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD, NEW = "uitgaand_bericht", "outbox_message"

#: Old column name → new column name, in the table's column order.
COLUMNS = {
    "id": "id",
    "ontvanger_oin": "receiver_oin",
    "endpoint": "endpoint",
    "operatie": "operation",
    "volgorde_sleutel": "ordering_key",
    "message_id": "message_id",
    "inhoud": "content",
    "status": "status",
    "pogingen": "attempts",
    "volgende_poging_op": "next_attempt_at",
    "bezig_tot": "claimed_until",
    "laatste_fout": "last_error",
    "aangemaakt_op": "created_at",
    "afgeleverd_op": "delivered_at",
    "inhoud_digest": "content_digest",
    "signaal_id": "signaal_id",
    "eerste_poging_op": "first_attempt_at",
}


#: Each column's name in the old table, by its new name.
OLD_NAMES = {new: old for old, new in COLUMNS.items()}
NEW_NAMES = {new: new for new in COLUMNS.values()}


def _create(table: str, name: dict[str, str]) -> None:
    """The outbox table as ``table``; ``name`` gives each column's name in it, by its new name."""
    op.create_table(
        table,
        sa.Column(
            name["id"],
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(name["receiver_oin"], sa.String(length=20), nullable=False),
        sa.Column(name["endpoint"], sa.String(length=500), nullable=False),
        sa.Column(name["operation"], sa.String(length=40), nullable=False),
        sa.Column(name["ordering_key"], sa.String(length=64), nullable=False),
        sa.Column(name["message_id"], sa.String(length=45), nullable=False),
        sa.Column(name["content"], sa.LargeBinary(), nullable=False),
        sa.Column(name["status"], sa.String(length=12), nullable=False),
        sa.Column(name["attempts"], sa.Integer(), nullable=False),
        sa.Column(name["next_attempt_at"], sa.DateTime(timezone=True), nullable=False),
        sa.Column(name["claimed_until"], sa.DateTime(timezone=True), nullable=True),
        sa.Column(name["last_error"], sa.String(length=200), nullable=True),
        sa.Column(name["created_at"], sa.DateTime(timezone=True), nullable=False),
        sa.Column(name["delivered_at"], sa.DateTime(timezone=True), nullable=True),
        sa.Column(name["content_digest"], sa.String(length=64), nullable=True),
        sa.Column(name["signaal_id"], sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(name["first_attempt_at"], sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            [name["signaal_id"]], ["signaal.id"], name=op.f(f"fk_{table}_signaal_id_signaal")
        ),
        sa.PrimaryKeyConstraint(name["id"], name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(name["message_id"], name=op.f(f"uq_{table}_message_id")),
    )


def _move(source: str, source_name: dict[str, str], target: str, target_name: dict[str, str]) -> None:
    """Create ``target``, copy every row of ``source`` into it and drop ``source`` (``*_name``: each
    column's name in that table, by its new name)."""
    _create(target, target_name)
    into = ", ".join(target_name[column] for column in NEW_NAMES)
    select = ", ".join(source_name[column] for column in NEW_NAMES)
    op.execute(f"INSERT INTO {target} ({into}) SELECT {select} FROM {source}")
    op.drop_table(source)
    if op.get_bind().dialect.name == "postgresql":
        # The copied ids are above the new table's fresh sequence: continue after the highest.
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{target}', 'id'), COALESCE(MAX(id), 0) + 1, false) "
            f"FROM {target}"
        )


def upgrade() -> None:
    _move(OLD, OLD_NAMES, NEW, NEW_NAMES)
    op.create_index("ix_outbox_message_queue", NEW, ["status", "next_attempt_at"])
    op.create_index("ix_outbox_message_order", NEW, ["receiver_oin", "ordering_key", "id"])


def downgrade() -> None:
    _move(NEW, NEW_NAMES, OLD, OLD_NAMES)
    op.create_index("ix_uitgaand_bericht_wachtrij", OLD, ["status", "volgende_poging_op"])
    op.create_index("ix_uitgaand_bericht_volgorde", OLD, ["ontvanger_oin", "volgorde_sleutel", "id"])
