"""Calls made through ``POST /call``: what to send, when it may be sent, a name.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 10:02:41.118093
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEDULED = sa.text("status = 'scheduled'")


def upgrade() -> None:
    op.add_column("calls", sa.Column("request", postgresql.JSONB(), nullable=True))
    op.add_column("calls", sa.Column("name", sa.String(200), nullable=True))
    op.add_column("calls", sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
    op.add_column("calls", sa.Column("not_after", sa.DateTime(timezone=True), nullable=True))
    op.add_column("calls", sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False))
    op.create_index(
        "ix_calls_scheduled",
        "calls",
        ["org_id", "phone_number_id", "not_before", "seq"],
        postgresql_where=SCHEDULED,
    )
    op.create_index("ix_calls_scheduled_due", "calls", ["not_before"], postgresql_where=SCHEDULED)
    op.create_index("ix_calls_scheduled_expiry", "calls", ["not_after"], postgresql_where=SCHEDULED)
    op.create_index("ix_calls_org_created", "calls", ["org_id", "created_at"])


def downgrade() -> None:
    op.execute("DELETE FROM calls WHERE status = 'scheduled'")
    op.drop_index("ix_calls_org_created", table_name="calls")
    op.drop_index("ix_calls_scheduled_expiry", table_name="calls")
    op.drop_index("ix_calls_scheduled_due", table_name="calls")
    op.drop_index("ix_calls_scheduled", table_name="calls")
    op.drop_column("calls", "seq")
    op.drop_column("calls", "not_after")
    op.drop_column("calls", "not_before")
    op.drop_column("calls", "name")
    op.drop_column("calls", "request")
