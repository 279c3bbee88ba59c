from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.models.base import Base, Timestamped, new_id
from orchestrator.models.enums import CampaignStatus

COUNTER_COLUMNS = (
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


class Campaign(Timestamped, Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_org_created", "org_id", "created_at"),
        Index(
            "ix_campaigns_active",
            "earliest_at",
            postgresql_where=text("status IN ('scheduled', 'in-progress', 'paused')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(400))
    status: Mapped[CampaignStatus] = mapped_column(String(20), default=CampaignStatus.SCHEDULED)
    ended_reason: Mapped[str | None] = mapped_column(String(80))
    assistant_id: Mapped[str | None] = mapped_column(String(200))
    workflow_id: Mapped[str | None] = mapped_column(String(200))
    squad_id: Mapped[str | None] = mapped_column(String(200))
    phone_number_id: Mapped[str | None] = mapped_column(String(200))
    uses_dial_plan: Mapped[bool] = mapped_column(default=False)
    earliest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    latest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    max_concurrency: Mapped[int] = mapped_column(Integer, default=10)
    assistant_overrides: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    squad_overrides: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    server: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    server_messages: Mapped[list[str] | None] = mapped_column(JSONB)
    predial_plan: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    extensions: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the tick iterates over instead of scanning contacts: the campaign's caller numbers
    # and the distinct calling-hours zone keys of its contacts, both fixed at creation.
    caller_ids: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    contact_timezones: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")

    contacts_total: Mapped[int] = mapped_column(Integer, default=0)
    calls_counter_scheduled: Mapped[int] = mapped_column(Integer, default=0)
    calls_counter_queued: Mapped[int] = mapped_column(Integer, default=0)
    calls_counter_in_progress: Mapped[int] = mapped_column(Integer, default=0)
    calls_counter_ended: Mapped[int] = mapped_column(Integer, default=0)
    calls_counter_ended_voicemail: Mapped[int] = mapped_column(Integer, default=0)
    contacts_pending: Mapped[int] = mapped_column(Integer, default=0)
    contacts_dispatched: Mapped[int] = mapped_column(Integer, default=0)
    contacts_completed: Mapped[int] = mapped_column(Integer, default=0)
    contacts_failed: Mapped[int] = mapped_column(Integer, default=0)
    contacts_skipped: Mapped[int] = mapped_column(Integer, default=0)
    contacts_predial_failed: Mapped[int] = mapped_column(Integer, default=0)

    def caller_numbers(self) -> list[str | None]:
        """Every caller number the campaign dials from (a dial plan has several)."""
        numbers: list[str | None] = list(self.caller_ids)
        return numbers or [self.phone_number_id]
