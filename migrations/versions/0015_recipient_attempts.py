"""The attempt ledger: every create sent to a number, counted against the org's frequency caps.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recipient_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name="fk_recipient_attempts_org_id_orgs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_recipient_attempts"),
    )
    op.create_index(
        "ix_recipient_attempts_number",
        "recipient_attempts",
        ["org_id", "number", "sent_at"],
        postgresql_include=["campaign_id"],
    )
    op.create_index("ix_recipient_attempts_call_id", "recipient_attempts", ["call_id"], unique=True)
    op.create_index("ix_recipient_attempts_sent_at", "recipient_attempts", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_recipient_attempts_sent_at", table_name="recipient_attempts")
    op.drop_index("ix_recipient_attempts_call_id", table_name="recipient_attempts")
    op.drop_index("ix_recipient_attempts_number", table_name="recipient_attempts")
    op.drop_table("recipient_attempts")
