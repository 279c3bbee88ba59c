"""One campaign text and one follow-up per contact: a partial unique index on chats.

A contact of an sms campaign gets one text, and a contact of a call campaign one follow-up
text, however often and in whatever order its call's end is reported. The tables are new
(0018), so no row can break the index.

Revision ID: 0021
Revises: 0020
Create Date: 2027-01-20 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_chats_one_campaign_text",
        "chats",
        ["contact_id", "purpose"],
        unique=True,
        postgresql_where=sa.text("contact_id IS NOT NULL AND purpose IN ('campaign', 'follow-up')"),
    )


def downgrade() -> None:
    op.drop_index("ix_chats_one_campaign_text", table_name="chats")
