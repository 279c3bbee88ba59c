from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, Uuid, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.models.base import Base


class WebhookEvent(Base):
    """Every provider message, stored before it is acknowledged (``outcome`` NULL until applied)."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        # A call's events, deleted with it (by the code that deletes the call).
        Index("ix_webhook_events_call", "call_id"),
        # A message delivered twice is stored once: its key is derived from its content.
        Index(
            "ix_webhook_events_dedupe",
            "dedupe_key",
            unique=True,
            postgresql_where=text("dedupe_key IS NOT NULL"),
        ),
        # Messages for a call not recorded yet wait here until its create answer is stored.
        Index(
            "ix_webhook_events_parked",
            "provider_call_id",
            postgresql_where=text("outcome = 'parked'"),
        ),
        # Stored, not applied yet: what the applier claims, oldest first.
        Index("ix_webhook_events_pending", "id", postgresql_where=text("outcome IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # What the event was applied to: ids read from those rows as they were applied. Not
    # foreign keys, which would check each again on every one of thousands of writes a second.
    org_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    call_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    provider_call_id: Mapped[str | None] = mapped_column(String(200))
    message_type: Mapped[str] = mapped_column(String(80))
    status: Mapped[str | None] = mapped_column(String(40))
    ended_reason: Mapped[str | None] = mapped_column(String(200))
    dedupe_key: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
