"""reference data per cycle, with contact details, ended institutions and the files loaded

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 19:45:00

``rmc_regio``, ``gemeente``, ``instelling`` and ``vestiging`` get ``cyclus_jaar`` as the first part of
their primary key: RMC regions change between years and a new cycle's load must change nothing about
a closed one (issue 15). Existing rows are carried over to one cycle, all of them: the newest cycle that
is not closed, else the newest ``geldig_vanaf_cyclus`` of any reference row. Not each row's own
``geldig_vanaf_cyclus``: a row unchanged since an earlier load keeps an older year, and a lookup reads
one cycle's rows only, so such rows would vanish from the exchange. ``instelling``/``vestiging`` get ``telefoon``,
``internetadres`` (DUO's contact details) and ``beeindigd`` (missing from a later cycle's files);
``instelling.onderwijssoort`` tells (V)SO from regular VO. ``refdata_bestand`` records which DUO files
were loaded per cycle, so ``vva refdata check`` can say what is missing.
"""

import warnings
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SLEUTELS = {"rmc_regio": "code", "gemeente": "code", "instelling": "brin", "vestiging": "code"}


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    jaar = bind.scalar(
        sa.text(
            "SELECT COALESCE((SELECT MAX(jaar) FROM cyclus WHERE gesloten_op IS NULL), "
            + "(SELECT MAX(j) FROM ("
            + " UNION ALL ".join(f"SELECT MAX(geldig_vanaf_cyclus) AS j FROM {t}" for t in _SLEUTELS)
            + ") AS alle))"
        )
    )
    for tabel in _SLEUTELS:
        with op.batch_alter_table(tabel) as batch_op:
            batch_op.add_column(sa.Column("cyclus_jaar", sa.Integer(), nullable=True))
            if tabel in ("instelling", "vestiging"):
                batch_op.add_column(sa.Column("telefoon", sa.String(50), nullable=True))
                batch_op.add_column(sa.Column("internetadres", sa.String(200), nullable=True))
                batch_op.add_column(
                    sa.Column("beeindigd", sa.Boolean(), nullable=False, server_default=sa.false())
                )
            if tabel == "instelling":
                batch_op.add_column(
                    sa.Column("onderwijssoort", sa.String(3), nullable=False, server_default="vo")
                )
        if jaar is not None:  # None: no reference rows at all, nothing to carry over
            op.execute(sa.text(f"UPDATE {tabel} SET cyclus_jaar = :jaar").bindparams(jaar=jaar))
        with (
            warnings.catch_warnings(),
            op.batch_alter_table(tabel, recreate="always" if not postgres else "auto") as batch_op,
        ):
            # SQLite's copy of the table first has the old key; SQLAlchemy warns when it is replaced.
            warnings.filterwarnings("ignore", "Table '_alembic_tmp_", category=Warning)
            batch_op.alter_column("cyclus_jaar", existing_type=sa.Integer(), nullable=False)
            if postgres:
                batch_op.drop_constraint(f"pk_{tabel}", type_="primary")
            batch_op.create_primary_key(f"pk_{tabel}", ["cyclus_jaar", _SLEUTELS[tabel]])
    op.execute("UPDATE instelling SET onderwijssoort = sector")
    op.create_table(
        "refdata_bestand",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("cyclus_jaar", sa.Integer(), nullable=False),
        sa.Column("soort", sa.String(30), nullable=False),
        sa.Column("naam", sa.String(300), nullable=False),
        sa.Column("rijen", sa.Integer(), nullable=False),
        sa.Column("geladen_op", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_refdata_bestand"),
    )
    op.create_index("ix_refdata_bestand_cyclus_jaar", "refdata_bestand", ["cyclus_jaar"])


def downgrade() -> None:
    op.drop_index("ix_refdata_bestand_cyclus_jaar", table_name="refdata_bestand")
    op.drop_table("refdata_bestand")
    postgres = op.get_bind().dialect.name == "postgresql"
    for tabel, sleutel in _SLEUTELS.items():
        # Keep the newest cycle's rows: the old schema holds one row per code.
        op.execute(f"DELETE FROM {tabel} WHERE cyclus_jaar <> (SELECT MAX(cyclus_jaar) FROM {tabel})")
        with op.batch_alter_table(tabel, recreate="always" if not postgres else "auto") as batch_op:
            if postgres:
                batch_op.drop_constraint(f"pk_{tabel}", type_="primary")
            batch_op.create_primary_key(f"pk_{tabel}", [sleutel])
            batch_op.drop_column("cyclus_jaar")
            if tabel in ("instelling", "vestiging"):
                batch_op.drop_column("telefoon")
                batch_op.drop_column("internetadres")
                batch_op.drop_column("beeindigd")
            if tabel == "instelling":
                batch_op.drop_column("onderwijssoort")
