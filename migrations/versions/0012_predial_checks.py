"""Pre-dial checks: each contact's check of its next attempt, and the last verdict.

``ix_contacts_predial`` holds only pending contacts being checked or cleared, so it starts
empty and stays small (about ``maxConcurrency`` rows per campaign with checks).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 08:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("predial_state", sa.String(length=20), nullable=True))
    op.add_column(
        "contacts",
        sa.Column("predial_lease_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "contacts",
        sa.Column("predial_errors", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "contacts",
        sa.Column("predial_verdict", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.create_index(
        "ix_contacts_predial",
        "contacts",
        ["campaign_id", "phone_number_id", "zone_key", "not_before", "position"],
        postgresql_where=sa.text("status = 'pending' AND predial_state IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_contacts_predial", table_name="contacts")
    for column in ("predial_verdict", "predial_errors", "predial_lease_until", "predial_state"):
        op.drop_column("contacts", column)
