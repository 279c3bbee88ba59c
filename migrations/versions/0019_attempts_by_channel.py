"""The attempt ledger's number index carries each attempt's channel: caps count calls, texts or
both, and read the ledger from the index alone.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _number_index(include: list[str]) -> None:
    op.drop_index("ix_recipient_attempts_number", table_name="recipient_attempts")
    op.create_index(
        "ix_recipient_attempts_number",
        "recipient_attempts",
        ["org_id", "number", "sent_at"],
        postgresql_include=include,
    )


def upgrade() -> None:
    _number_index(["campaign_id", "channel"])


def downgrade() -> None:
    _number_index(["campaign_id"])
