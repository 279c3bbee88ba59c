"""What the recovery sweep knows of asking the provider about calls: backoff, 404s, next time.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 02:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_lookups",
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("not_found_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wait_seconds", sa.Float(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name="fk_call_lookups_call_id_calls",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("call_id", name="pk_call_lookups"),
    )


def downgrade() -> None:
    op.drop_table("call_lookups")
