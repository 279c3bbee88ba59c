"""Campaign events out: the ``campaign_events`` outbox and each org's signing secret.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 08:00:00.000000
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orgs", sa.Column("signing_secret", sa.String(100), nullable=True))
    orgs = sa.table("orgs", sa.column("id", sa.Uuid), sa.column("signing_secret", sa.String))
    connection = op.get_bind()
    for (org_id,) in connection.execute(sa.select(orgs.c.id)):
        connection.execute(
            orgs.update()
            .where(orgs.c.id == org_id)
            .values(signing_secret="whsec_" + secrets.token_hex(32))
        )
    op.alter_column("orgs", "signing_secret", nullable=False)
    op.create_table(
        "campaign_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ordinal", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retry_window_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_campaign_events_campaign_id_campaigns",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name="fk_campaign_events_org_id_orgs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_events"),
        sa.UniqueConstraint("ordinal", name="uq_campaign_events_ordinal"),
    )
    op.create_index(
        "ix_campaign_events_due",
        "campaign_events",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending' AND sequence IS NOT NULL"),
    )
    op.create_index(
        "ix_campaign_events_unnumbered",
        "campaign_events",
        ["ordinal"],
        postgresql_where=sa.text("sequence IS NULL"),
    )
    op.create_index(
        "ix_campaign_events_campaign_sequence", "campaign_events", ["campaign_id", "sequence"]
    )
    op.create_index(
        "ix_campaign_events_campaign_status",
        "campaign_events",
        ["campaign_id", "status", "ordinal"],
    )
    op.create_index(
        "ix_campaign_events_delivered",
        "campaign_events",
        ["delivered_at"],
        postgresql_where=sa.text("status = 'delivered'"),
    )


def downgrade() -> None:
    op.drop_table("campaign_events")
    op.drop_column("orgs", "signing_secret")
