"""Zone keys of any length: contacts.zone_key becomes text.

A number whose region spans many zones (a US toll-free number: every zone of the North American
numbering plan) has a key far longer than 200 characters, which the column refused; US keys
now also carry the number's state ("America/New_York|FL"). varchar to text is binary
compatible: no row is rewritten, and ``ix_contacts_due`` keeps working as it is.

Going down, keys lose their state (the older code reads a key as zone names only), in
contacts and in each campaign's list of keys, and a key longer than 200 characters becomes ""
(zone unknown: the campaign's fallback zone), as the column can hold no more.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_LENGTH = 200


def upgrade() -> None:
    op.alter_column("contacts", "zone_key", type_=sa.Text(), existing_nullable=False)


def downgrade() -> None:
    op.execute(
        f"""
        UPDATE contacts SET zone_key = CASE
            WHEN length(split_part(zone_key, '|', 1)) > {_OLD_LENGTH} THEN ''
            ELSE split_part(zone_key, '|', 1) END
        WHERE zone_key LIKE '%|%' OR length(zone_key) > {_OLD_LENGTH}
        """
    )
    op.execute(
        f"""
        UPDATE campaigns SET contact_zone_keys = (
            SELECT coalesce(jsonb_agg(DISTINCT CASE
                WHEN length(split_part(key, '|', 1)) > {_OLD_LENGTH} THEN ''
                ELSE split_part(key, '|', 1) END), '[]'::jsonb)
            FROM jsonb_array_elements_text(contact_zone_keys) AS key)
        WHERE contact_zone_keys::text LIKE '%|%' OR EXISTS (
            SELECT 1 FROM jsonb_array_elements_text(contact_zone_keys) AS key
            WHERE length(key) > {_OLD_LENGTH})
        """
    )
    op.alter_column("contacts", "zone_key", type_=sa.String(_OLD_LENGTH), existing_nullable=False)
