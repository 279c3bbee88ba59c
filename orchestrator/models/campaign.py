from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, MappedSQLExpression, column_property, mapped_column

from orchestrator.models.base import Base, Timestamped, new_id
from orchestrator.models.campaign_counter_shard import COUNTER_COLUMNS, CampaignCounterShard
from orchestrator.models.enums import CampaignStatus

__all__ = ["COUNTER_COLUMNS", "Campaign"]


def _summed(name: str, campaign_id: Mapped[uuid.UUID]) -> MappedSQLExpression[int]:
    """One counter of the campaign: the sum of its shard rows, read when first accessed.

    A convenience for code holding one ``Campaign``; like any column it keeps the value it
    was loaded with until refreshed. Readers of several campaigns, and anything that must see
    the value now, use ``campaigns.counter_repository.counters_of``.
    """
    shard = CampaignCounterShard.__table__.c[name]
    total = (
        select(func.coalesce(func.sum(shard), 0).cast(BigInteger))
        .where(CampaignCounterShard.campaign_id == campaign_id)
        .correlate_except(CampaignCounterShard)
        .scalar_subquery()
    )
    return column_property(total, deferred=True, group="counters")


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
    # "call" (Vapi's campaigns) or "sms": one text per contact instead of a call.
    channel: Mapped[str] = mapped_column(String(10), default="call", server_default="call")
    extensions: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the tick iterates over instead of scanning contacts: the campaign's caller number ids
    # and the distinct calling-hours zone keys of its contacts, both fixed at creation.
    caller_number_ids: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    contact_zone_keys: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")

    contacts_total: Mapped[int] = mapped_column(Integer, default=0)
    # The counters live in ``campaign_counter_shards`` (see there); these read their sums.
    calls_counter_scheduled: Mapped[int] = _summed("calls_counter_scheduled", id)
    calls_counter_queued: Mapped[int] = _summed("calls_counter_queued", id)
    calls_counter_in_progress: Mapped[int] = _summed("calls_counter_in_progress", id)
    calls_counter_ended: Mapped[int] = _summed("calls_counter_ended", id)
    calls_counter_ended_voicemail: Mapped[int] = _summed("calls_counter_ended_voicemail", id)
    contacts_pending: Mapped[int] = _summed("contacts_pending", id)
    contacts_dispatched: Mapped[int] = _summed("contacts_dispatched", id)
    contacts_completed: Mapped[int] = _summed("contacts_completed", id)
    contacts_failed: Mapped[int] = _summed("contacts_failed", id)
    contacts_skipped: Mapped[int] = _summed("contacts_skipped", id)
    contacts_predial_failed: Mapped[int] = _summed("contacts_predial_failed", id)

    def __init__(self, **kwargs: Any) -> None:
        # Counters given here would be dropped silently (they are sums, not columns).
        misplaced = sorted(set(kwargs) & set(COUNTER_COLUMNS))
        if misplaced:
            raise TypeError(
                f"campaign counters {misplaced} are set with "
                "campaigns.counter_repository.add_counter_shards, not on the Campaign"
            )
        super().__init__(**kwargs)

    def caller_number_ids_to_dial(self) -> list[str | None]:
        """Every caller number id the campaign dials from (a dial plan has several)."""
        caller_number_ids: list[str | None] = list(self.caller_number_ids)
        return caller_number_ids or [self.phone_number_id]
