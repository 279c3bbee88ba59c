"""Chats and sessions: the text channel (outbound texts with their delivery, conversations
with their messages), campaigns that text, and each number's messages per second.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 13:11:38.789170
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("provider_session_id", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("expiration_seconds", sa.Integer(), nullable=True),
        sa.Column("assistant_id", sa.String(length=200), nullable=True),
        sa.Column("assistant", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("assistant_overrides", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("squad_id", sa.String(length=200), nullable=True),
        sa.Column("squad", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("customer_id", sa.String(length=200), nullable=True),
        sa.Column("customer", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("customer_number", sa.String(length=64), nullable=True),
        sa.Column("phone_number_id", sa.String(length=200), nullable=True),
        sa.Column("phone_number", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "messages", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("costs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("artifact", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_sessions_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_sessions_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_sessions_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(
        "ix_sessions_active_synced",
        "sessions",
        ["provider_synced_at"],
        unique=False,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "ix_sessions_campaign_contact", "sessions", ["campaign_id", "contact_id"], unique=False
    )
    op.create_index("ix_sessions_org_created", "sessions", ["org_id", "created_at"], unique=False)
    op.create_index(
        "ix_sessions_org_customer_number", "sessions", ["org_id", "customer_number"], unique=False
    )
    op.create_index(
        "ix_sessions_provider_id",
        "sessions",
        ["provider_session_id"],
        unique=True,
        postgresql_where=sa.text("provider_session_id IS NOT NULL"),
    )
    op.create_table(
        "chats",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("provider_chat_id", sa.String(length=200), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("previous_chat_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("assistant_id", sa.String(length=200), nullable=True),
        sa.Column("assistant", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("assistant_overrides", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("squad_id", sa.String(length=200), nullable=True),
        sa.Column("squad", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("input", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "messages", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.Column(
            "output", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("costs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("transport", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("delivery_status", sa.String(length=20), nullable=True),
        sa.Column("delivery_reason", sa.String(length=2000), nullable=True),
        sa.Column("phone_number_id", sa.String(length=200), nullable=True),
        sa.Column("customer", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("customer_number", sa.String(length=64), nullable=True),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_chats_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_chats_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_chats_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_chats_session_id_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats")),
    )
    op.create_index(
        "ix_chats_campaign_contact", "chats", ["campaign_id", "contact_id"], unique=False
    )
    op.create_index("ix_chats_org_created", "chats", ["org_id", "created_at"], unique=False)
    op.create_index(
        "ix_chats_provider_id",
        "chats",
        ["provider_chat_id"],
        unique=True,
        postgresql_where=sa.text("provider_chat_id IS NOT NULL"),
    )
    op.create_index(
        "ix_chats_queued_due",
        "chats",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("delivery_status = 'queued'"),
    )
    op.create_index(
        "ix_chats_sending",
        "chats",
        ["sent_at"],
        unique=False,
        postgresql_where=sa.text("delivery_status = 'sending'"),
    )
    op.create_index("ix_chats_session", "chats", ["session_id", "created_at"], unique=False)
    op.add_column(
        "campaigns",
        sa.Column("channel", sa.String(length=10), server_default="call", nullable=False),
    )
    op.add_column("phone_numbers", sa.Column("messages_per_second", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("phone_numbers", "messages_per_second")
    op.drop_column("campaigns", "channel")
    op.drop_index("ix_chats_session", table_name="chats")
    op.drop_index(
        "ix_chats_sending",
        table_name="chats",
        postgresql_where=sa.text("delivery_status = 'sending'"),
    )
    op.drop_index(
        "ix_chats_queued_due",
        table_name="chats",
        postgresql_where=sa.text("delivery_status = 'queued'"),
    )
    op.drop_index(
        "ix_chats_provider_id",
        table_name="chats",
        postgresql_where=sa.text("provider_chat_id IS NOT NULL"),
    )
    op.drop_index("ix_chats_org_created", table_name="chats")
    op.drop_index("ix_chats_campaign_contact", table_name="chats")
    op.drop_table("chats")
    op.drop_index(
        "ix_sessions_provider_id",
        table_name="sessions",
        postgresql_where=sa.text("provider_session_id IS NOT NULL"),
    )
    op.drop_index("ix_sessions_org_customer_number", table_name="sessions")
    op.drop_index("ix_sessions_org_created", table_name="sessions")
    op.drop_index("ix_sessions_campaign_contact", table_name="sessions")
    op.drop_index(
        "ix_sessions_active_synced",
        table_name="sessions",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_table("sessions")
