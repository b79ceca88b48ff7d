"""contact details per party: e-mail for this exchange, and phone/internet address over DUO's

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 10:00:00

Issue 15, item 5: answers carry the institutions' contact details from DUO's files (``instelling``,
migration 0014). A party may override DUO's phone and internet address and add a contact e-mail for this
exchange; the e-mail exists only here. Institution contacts, never a person's. All columns nullable: a
party without overrides shows DUO's values.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_KOLOMMEN = (("contact_email", 254), ("contact_telefoon", 50), ("contact_internetadres", 200))


def upgrade() -> None:
    # Plain ALTER TABLE on both dialects (no batch copy on SQLite): a copied table would lose the
    # registry-version triggers of migration 0011.
    for naam, lengte in _KOLOMMEN:
        op.add_column("partij", sa.Column(naam, sa.String(lengte), nullable=True))


def downgrade() -> None:
    # SQLite >= 3.35 and PostgreSQL both drop a column in place, triggers kept.
    for naam, _ in reversed(_KOLOMMEN):
        op.execute(f"ALTER TABLE partij DROP COLUMN {naam}")
