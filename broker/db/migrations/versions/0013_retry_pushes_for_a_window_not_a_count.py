"""retry pushes for a window of time, not a number of attempts

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 19:30:00

``uitgaand_bericht.eerste_poging_op``: when a push was first tried (reset by ``vva outbox retry``), so
that it is dead-lettered only after ``outbox_retry_window_s`` of failures — a receiver down over a
weekend still gets every push. Rows queued before this revision get it at their next attempt.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
# 0012 (the change feed) is added by another branch; the merge sets this to "0012".
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("uitgaand_bericht", schema=None) as batch_op:
        batch_op.add_column(sa.Column("eerste_poging_op", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("uitgaand_bericht", schema=None) as batch_op:
        batch_op.drop_column("eerste_poging_op")
