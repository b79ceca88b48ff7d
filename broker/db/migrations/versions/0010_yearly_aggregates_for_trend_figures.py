"""yearly aggregates for trend figures (jaarcijfer)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 12:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "jaarcijfer",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("jaar", sa.Integer(), nullable=False),
        sa.Column("niveau", sa.String(length=12), nullable=False),
        sa.Column("eenheid", sa.String(length=6), nullable=False),
        sa.Column("cijfer", sa.String(length=40), nullable=False),
        sa.Column("dimensie", sa.String(length=60), nullable=False),
        sa.Column("waarde", sa.Integer(), nullable=True),
        sa.Column("berekend_op", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jaarcijfer")),
        sa.UniqueConstraint(
            "jaar", "niveau", "eenheid", "cijfer", "dimensie", name=op.f("uq_jaarcijfer_jaar")
        ),
    )


def downgrade() -> None:
    op.drop_table("jaarcijfer")
