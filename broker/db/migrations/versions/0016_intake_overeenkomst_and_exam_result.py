"""intake, onderwijsovereenkomst and the VO exam result, with their history

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 22:30:00

Issue 16: the brief asks for lead times registration → intake → enrolment → onderwijsovereenkomst, for
intakes by outcome, and for pupils with a diploma registered nowhere; those facts never entered the
broker. All new columns are nullable: a party that does not report them loses nothing.

- ``aanmelding``: the last reported intake (date, outcome) and the date the onderwijsovereenkomst was
  signed; ``aanmelding_feit`` keeps every reported intake and overeenkomst with the time it was recorded
  (deleted with the cycle's personal data, like ``aanmelding_overgang``).
- ``leerling`` / ``leerling_mutatie``: the VO outcome of the school year and its date, current and per
  mutation.
- ``partij.procesfeiten_ontvangen`` (default false): whether the party's software accepts the new
  optional elements in answers and pushes; as with ``contactgegevens_ontvangen`` (migration 0015), a
  client validating strictly against yesterday's XSD keeps getting what it validated yesterday.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NIEUWE_KOLOMMEN = (
    ("aanmelding", "intake_datum", sa.Date()),
    ("aanmelding", "intake_uitkomst", sa.String(20)),
    ("aanmelding", "overeenkomst_datum", sa.Date()),
    ("leerling", "examen_uitkomst", sa.String(24)),
    ("leerling", "examen_datum", sa.Date()),
    ("leerling_mutatie", "examen_uitkomst", sa.String(24)),
    ("leerling_mutatie", "examen_datum", sa.Date()),
)


def upgrade() -> None:
    # Plain ALTER TABLE on both dialects (no batch copy on SQLite): a copied table would lose triggers.
    for tabel, kolom, soort in _NIEUWE_KOLOMMEN:
        op.add_column(tabel, sa.Column(kolom, soort, nullable=True))
    op.add_column(
        "partij",
        sa.Column("procesfeiten_ontvangen", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    id_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "aanmelding_feit",
        sa.Column("id", id_type, primary_key=True, autoincrement=True),
        sa.Column(
            "aanmelding_id",
            id_type,
            sa.ForeignKey(
                "aanmelding.id", ondelete="CASCADE", name="fk_aanmelding_feit_aanmelding_id_aanmelding"
            ),
            nullable=False,
        ),
        sa.Column("soort", sa.String(24), nullable=False),
        sa.Column("datum", sa.Date(), nullable=False),
        sa.Column("uitkomst", sa.String(20), nullable=True),
        sa.Column("vastgelegd_op", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "bericht_id",
            id_type,
            sa.ForeignKey("bericht.id", name="fk_aanmelding_feit_bericht_id_bericht"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name="pk_aanmelding_feit"),
    )
    op.create_index("ix_aanmelding_feit_aanmelding_id", "aanmelding_feit", ["aanmelding_id"])


def downgrade() -> None:
    op.drop_index("ix_aanmelding_feit_aanmelding_id", table_name="aanmelding_feit")
    op.drop_table("aanmelding_feit")
    # SQLite >= 3.35 and PostgreSQL both drop a column in place, triggers kept.
    op.execute("ALTER TABLE partij DROP COLUMN procesfeiten_ontvangen")
    for tabel, kolom, _ in reversed(_NIEUWE_KOLOMMEN):
        op.execute(f"ALTER TABLE {tabel} DROP COLUMN {kolom}")
