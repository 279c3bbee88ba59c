"""Zone-key columns named for what they hold: contacts.zone_key, campaigns.contact_zone_keys.

Both hold calling-hours zone keys (a zone name, the zones of a number's region joined, or ""),
not time zones; the customer's own ``timezone`` stays in its JSON. ``ix_contacts_due`` follows
the renamed column by itself.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 10:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("contacts", "timezone", new_column_name="zone_key")
    op.alter_column("campaigns", "contact_timezones", new_column_name="contact_zone_keys")


def downgrade() -> None:
    op.alter_column("campaigns", "contact_zone_keys", new_column_name="contact_timezones")
    op.alter_column("contacts", "zone_key", new_column_name="timezone")
