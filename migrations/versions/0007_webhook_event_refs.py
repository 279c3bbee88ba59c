"""Stored webhook events name their call and org without foreign keys; found by call.

Events are written thousands a second and each applied one is updated once with the call and
org it applied to, ids the applier has just read from those rows (the call locked): a foreign
key check per id only repeated that read. A call's events are deleted with the call, by the
code that deletes it, through the new index on ``call_id`` (before, the cascade had no index
to use and scanned every event). The index on ``provider_call_id`` served no query: parked
events are found through their own partial index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 14:05:12.402311
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("fk_webhook_events_call_id_calls", "webhook_events", type_="foreignkey")
    op.drop_constraint("fk_webhook_events_org_id_orgs", "webhook_events", type_="foreignkey")
    op.drop_index("ix_webhook_events_provider_call", table_name="webhook_events")
    op.create_index("ix_webhook_events_call", "webhook_events", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_events_call", table_name="webhook_events")
    op.create_index("ix_webhook_events_provider_call", "webhook_events", ["provider_call_id"])
    # Events of calls or orgs deleted meanwhile would break the keys: they go first.
    op.execute("DELETE FROM webhook_events e WHERE e.call_id IS NOT NULL AND NOT EXISTS "
               "(SELECT 1 FROM calls c WHERE c.id = e.call_id)")  # fmt: skip
    op.execute("DELETE FROM webhook_events e WHERE e.org_id IS NOT NULL AND NOT EXISTS "
               "(SELECT 1 FROM orgs o WHERE o.id = e.org_id)")  # fmt: skip
    op.create_foreign_key(
        "fk_webhook_events_org_id_orgs",
        "webhook_events",
        "orgs",
        ["org_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        "fk_webhook_events_call_id_calls",
        "webhook_events",
        "calls",
        ["call_id"],
        ["id"],
        ondelete="CASCADE",
    )
