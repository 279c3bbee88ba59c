"""Indexes for the contacts listing: a campaign's contacts in dial order, and in status order.

``GET /v2/campaign/{id}/contacts`` pages through a campaign of any size with one index range
per sort, read without the table (each carries the status): ``(campaign_id, position)`` and
``(campaign_id, <Vapi's status order>, position)``. A contact's position is its place in
dial order, unique in its campaign: the first index says so.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-09 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The models' expression, as it stands today (a migration must not change with the models).
STATUS_ORDER_SQL = (
    "(CASE status WHEN 'pending' THEN 0 WHEN 'dispatched' THEN 1 WHEN 'completed' THEN 2 "
    "WHEN 'failed' THEN 3 WHEN 'skipped' THEN 4 WHEN 'predial-failed' THEN 5 END)"
)


def upgrade() -> None:
    op.create_index(
        "ix_contacts_campaign_position",
        "contacts",
        ["campaign_id", "position"],
        unique=True,
        postgresql_include=["status"],
    )
    op.create_index(
        "ix_contacts_campaign_status_order",
        "contacts",
        ["campaign_id", sa.text(STATUS_ORDER_SQL), "position"],
        postgresql_include=["status"],
    )


def downgrade() -> None:
    op.drop_index("ix_contacts_campaign_status_order", table_name="contacts")
    op.drop_index("ix_contacts_campaign_position", table_name="contacts")
