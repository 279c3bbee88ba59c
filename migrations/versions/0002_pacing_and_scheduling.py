"""Pacing and scheduling: not-before times, zone keys, paused campaigns, per-number indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 08:07:16.876491
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_FLIGHT = "status IN ('claimed', 'dialing', 'queued', 'ringing', 'in-progress', 'forwarding')"


def _campaign_columns() -> None:
    op.add_column("campaigns", sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "campaigns",
        sa.Column("caller_ids", postgresql.JSONB(), server_default="[]", nullable=False),
    )
    op.add_column(
        "campaigns",
        sa.Column("contact_timezones", postgresql.JSONB(), server_default="[]", nullable=False),
    )
    op.drop_index("ix_campaigns_active", table_name="campaigns")
    op.create_index(
        "ix_campaigns_active",
        "campaigns",
        ["earliest_at"],
        postgresql_where=sa.text("status IN ('scheduled', 'in-progress', 'paused')"),
    )


def _contact_columns() -> None:
    op.add_column(
        "contacts", sa.Column("timezone", sa.String(200), server_default="", nullable=False)
    )
    op.add_column(
        "contacts",
        sa.Column(
            "not_before",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.add_column(
        "contacts",
        sa.Column("transient_failures", sa.Integer(), server_default="0", nullable=False),
    )
    op.execute("UPDATE contacts SET not_before = COALESCE(next_attempt_at, created_at)")
    # Single-number campaigns now name their caller on every contact, like dial plans do.
    op.execute(
        "UPDATE contacts SET phone_number_id = campaigns.phone_number_id FROM campaigns "
        "WHERE contacts.campaign_id = campaigns.id AND contacts.phone_number_id IS NULL"
    )
    op.execute(
        "UPDATE campaigns SET contact_timezones = '[\"\"]'::jsonb, caller_ids = COALESCE("
        "(SELECT jsonb_agg(DISTINCT c.phone_number_id) FROM contacts c "
        "WHERE c.campaign_id = campaigns.id AND c.phone_number_id IS NOT NULL), '[]'::jsonb)"
    )
    op.drop_index("ix_contacts_due", table_name="contacts")
    op.create_index(
        "ix_contacts_due",
        "contacts",
        ["campaign_id", "phone_number_id", "timezone", "not_before", "position"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_column("contacts", "next_attempt_at")


def upgrade() -> None:
    op.create_index(
        "ix_calls_in_flight_number",
        "calls",
        ["org_id", "phone_number_id"],
        postgresql_where=sa.text(IN_FLIGHT),
    )
    op.create_index("ix_calls_number_dialed", "calls", ["org_id", "phone_number_id", "dialed_at"])
    _campaign_columns()
    _contact_columns()
    op.add_column(
        "orgs",
        sa.Column("default_calling_hours", sa.Boolean(), server_default="false", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("orgs", "default_calling_hours")
    op.add_column(
        "contacts", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute("UPDATE contacts SET next_attempt_at = not_before")
    op.drop_index("ix_contacts_due", table_name="contacts")
    op.create_index(
        "ix_contacts_due",
        "contacts",
        ["campaign_id", "position"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_column("contacts", "transient_failures")
    op.drop_column("contacts", "not_before")
    op.drop_column("contacts", "timezone")
    op.drop_index("ix_campaigns_active", table_name="campaigns")
    op.create_index(
        "ix_campaigns_active",
        "campaigns",
        ["earliest_at"],
        postgresql_where=sa.text("status IN ('scheduled', 'in-progress')"),
    )
    op.drop_column("campaigns", "contact_timezones")
    op.drop_column("campaigns", "caller_ids")
    op.drop_column("campaigns", "paused_at")
    op.drop_index("ix_calls_number_dialed", table_name="calls")
    op.drop_index("ix_calls_in_flight_number", table_name="calls")
