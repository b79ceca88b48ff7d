"""version the party registry, so each web process can keep a copy of it

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 15:00:00

Every change to partij, partij_scope or mandaat — through ``vva party`` or any other writer — gives
``register_versie.versie`` a fresh random value in the same transaction (a trigger), so a process
that read the registry at one version knows its copy is stale as soon as another version is committed.
Random rather than a counter: a rolled-back change must never leave a number that a later change
reuses for other content.
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABELLEN = ("partij", "partij_scope", "mandaat")


def upgrade() -> None:
    op.create_table(
        "register_versie",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("versie", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_versie")),
    )
    # Random from the start too: a database re-created under a running process must not meet that
    # process's copy of another database at the same version.
    op.execute(
        sa.text("INSERT INTO register_versie (id, versie) VALUES (1, :versie)").bindparams(
            versie=uuid.uuid4().hex
        )
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION vva_register_gewijzigd() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN UPDATE register_versie SET versie = md5(random()::text || clock_timestamp()::text) "
            "WHERE id = 1; RETURN NULL; END $$"
        )
        for tabel in _TABELLEN:
            op.execute(
                f"CREATE TRIGGER {tabel}_register_gewijzigd AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {tabel} FOR EACH STATEMENT EXECUTE FUNCTION vva_register_gewijzigd()"
            )
        return
    for tabel in _TABELLEN:
        for actie in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {tabel}_register_{actie.lower()} AFTER {actie} ON {tabel} BEGIN "
                "UPDATE register_versie SET versie = lower(hex(randomblob(16))) WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for tabel in _TABELLEN:
            op.execute(f"DROP TRIGGER {tabel}_register_gewijzigd ON {tabel}")
        op.execute("DROP FUNCTION vva_register_gewijzigd()")
    else:
        for tabel in _TABELLEN:
            for actie in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {tabel}_register_{actie}")
    op.drop_table("register_versie")
