"""Campaign counters move from the campaign row to sharded rows, summed on read.

Each campaign's current counters become its shard 0; the columns on ``campaigns`` go, so
nothing can read a stale copy. Downgrading folds the shards back into the columns.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 12:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDS = 16
# Fixed here rather than imported: a migration describes the schema as it was at its revision.
COUNTERS = (
    "calls_counter_scheduled",
    "calls_counter_queued",
    "calls_counter_in_progress",
    "calls_counter_ended",
    "calls_counter_ended_voicemail",
    "contacts_pending",
    "contacts_dispatched",
    "contacts_completed",
    "contacts_failed",
    "contacts_skipped",
    "contacts_predial_failed",
)


def upgrade() -> None:
    op.create_table(
        "campaign_counter_shards",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False)
            for name in COUNTERS
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_counter_shards_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "shard", name=op.f("pk_campaign_counter_shards")),
    )
    # Every campaign gets all its shard rows (as new campaigns do), its counters in shard 0.
    columns = ", ".join(COUNTERS)
    values = ", ".join(f"CASE WHEN s.shard = 0 THEN c.{name} ELSE 0 END" for name in COUNTERS)
    op.execute(
        f"INSERT INTO campaign_counter_shards (campaign_id, shard, {columns}) "
        f"SELECT c.id, s.shard, {values} "
        f"FROM campaigns c CROSS JOIN generate_series(0, {SHARDS - 1}) AS s(shard)"
    )
    for name in COUNTERS:
        op.drop_column("campaigns", name)


def downgrade() -> None:
    for name in COUNTERS:
        op.add_column(
            "campaigns",
            sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False),
        )
    sums = ", ".join(f"sum({name}) AS {name}" for name in COUNTERS)
    assignments = ", ".join(f"{name} = s.{name}" for name in COUNTERS)
    op.execute(
        f"UPDATE campaigns SET {assignments} FROM "
        f"(SELECT campaign_id, {sums} FROM campaign_counter_shards GROUP BY campaign_id) s "
        "WHERE campaigns.id = s.campaign_id"
    )
    for name in COUNTERS:
        op.alter_column("campaigns", name, server_default=None)
    op.drop_table("campaign_counter_shards")
