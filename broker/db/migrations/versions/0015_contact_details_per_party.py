"""contact details per party: e-mail for this exchange, and phone/internet address over DUO's

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 10:00:00

Issue 15, item 5: answers carry the institutions' contact details from DUO's files (``instelling``,
migration 0014). A party may override DUO's phone and internet address and add a contact e-mail for this
exchange; the e-mail exists only here. Institution contacts, never a person's. All columns nullable: a
party without overrides shows DUO's values.

``contactgegevens_ontvangen`` (default false): whether the party's software accepts the new optional
``contactgegevens`` element. A client or receiver validating strictly against the XSD as it was before
would refuse answers and pushes carrying it (pushes retried, then dead-lettered), so a party gets the
element only once the operator recorded that it accepts it; a message valid for it yesterday stays so.
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
    op.add_column(
        "partij",
        sa.Column("contactgegevens_ontvangen", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    # SQLite >= 3.35 and PostgreSQL both drop a column in place, triggers kept.
    op.execute("ALTER TABLE partij DROP COLUMN contactgegevens_ontvangen")
    for naam, _ in reversed(_KOLOMMEN):
        op.execute(f"ALTER TABLE partij DROP COLUMN {naam}")
