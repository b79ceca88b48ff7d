"""give change feed positions in commit order, from a counter taken at commit

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:00:00

``wijziging.volgnummer`` was drawn at insert (a sequence on PostgreSQL, the rowid on SQLite), so a
change could commit below a position a follower had already passed (``broker.db.commit_order``). From
now on the broker gives it at commit from ``wijziging_teller``. The counter starts above every number
ever handed out, so a cursor a partner holds keeps meaning "after this change". On PostgreSQL the
column loses its sequence default: a writer that forgets the counter fails instead of breaking the
order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wijziging_teller",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("laatste", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wijziging_teller")),
    )
    bind = op.get_bind()
    hoogste = bind.execute(sa.text("SELECT coalesce(max(volgnummer), 0) FROM wijziging")).scalar_one()
    if bind.dialect.name == "postgresql":
        # The sequence may be ahead of the table: rows of a purged cycle, rolled-back inserts.
        reeks = bind.execute(sa.text("SELECT pg_get_serial_sequence('wijziging', 'volgnummer')")).scalar()
        if reeks:
            gegeven = bind.execute(
                sa.text(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {reeks}")
            ).scalar_one()
            hoogste = max(hoogste, gegeven)
            op.execute("ALTER TABLE wijziging ALTER COLUMN volgnummer DROP DEFAULT")
            op.execute(f"DROP SEQUENCE {reeks}")
    op.execute(
        sa.text("INSERT INTO wijziging_teller (id, laatste) VALUES (1, :laatste)").bindparams(laatste=hoogste)
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        laatste = op.get_bind().execute(sa.text("SELECT laatste FROM wijziging_teller")).scalar_one()
        op.execute("CREATE SEQUENCE wijziging_volgnummer_seq OWNED BY wijziging.volgnummer")
        op.execute(
            sa.text("SELECT setval('wijziging_volgnummer_seq', :n, :c)").bindparams(
                n=max(laatste, 1), c=laatste > 0
            )
        )
        op.execute(
            "ALTER TABLE wijziging ALTER COLUMN volgnummer SET DEFAULT nextval('wijziging_volgnummer_seq')"
        )
    op.drop_table("wijziging_teller")
