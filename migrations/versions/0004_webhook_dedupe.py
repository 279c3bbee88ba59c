"""One stored row per distinct provider message: a unique dedupe key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 11:40:12.502311
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_webhook_events_dedupe",
        "webhook_events",
        ["dedupe_key"],
        unique=True,
        postgresql_where=sa.text("dedupe_key IS NOT NULL"),
    )
    op.create_index(
        "ix_webhook_events_parked",
        "webhook_events",
        ["provider_call_id"],
        postgresql_where=sa.text("outcome = 'parked'"),
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_events_parked", table_name="webhook_events")
    op.drop_index("ix_webhook_events_dedupe", table_name="webhook_events")
