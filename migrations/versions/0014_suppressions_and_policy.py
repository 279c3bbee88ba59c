"""The compliance gate's data: each org's suppression list, its policy, and why a contact waits.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 10:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("deferral", sa.String(30), nullable=True))
    op.add_column(
        "orgs",
        sa.Column(
            "policy", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
    )
    op.create_table(
        "suppressions",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name="fk_suppressions_org_id_orgs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "number", name="pk_suppressions"),
    )
    op.create_index("ix_suppressions_org_reason", "suppressions", ["org_id", "reason", "number"])


def downgrade() -> None:
    op.drop_index("ix_suppressions_org_reason", table_name="suppressions")
    op.drop_table("suppressions")
    op.drop_column("orgs", "policy")
    op.drop_column("contacts", "deferral")
