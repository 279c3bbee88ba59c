"""Caller phone-number ids are named so: campaigns.caller_number_ids and the calls' indexes.

The provider's phone-number ids a campaign dials from, as distinct from its customers'
numbers; the two indexes on calls by caller number say "caller" for the same reason.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INDEX_NAMES = (
    ("ix_calls_in_flight_number", "ix_calls_in_flight_caller"),
    ("ix_calls_number_dialed", "ix_calls_caller_dialed"),
)


def upgrade() -> None:
    op.alter_column("campaigns", "caller_ids", new_column_name="caller_number_ids")
    for old, new in INDEX_NAMES:
        op.execute(f"ALTER INDEX {old} RENAME TO {new}")


def downgrade() -> None:
    for old, new in INDEX_NAMES:
        op.execute(f"ALTER INDEX {new} RENAME TO {old}")
    op.alter_column("campaigns", "caller_number_ids", new_column_name="caller_ids")
