"""Stored webhook events waiting to be applied are found through a small partial index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 09:20:41.118204
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_webhook_events_pending",
        "webhook_events",
        ["id"],
        postgresql_where=sa.text("outcome IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_events_pending", table_name="webhook_events")
