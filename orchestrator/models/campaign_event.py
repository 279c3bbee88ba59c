from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.models.base import Base, new_id
from orchestrator.models.enums import CampaignEventStatus


class OutboxEvent(Base):
    """One campaign event for the campaign's ``server.url``: the outbox the workers deliver from.

    Written in the transaction of the change it reports. ``ordinal`` orders events globally as
    they were written; ``sequence`` numbers them per campaign, assigned once, at delivery
    time (a per-campaign counter row written on every dial and webhook would be a hot spot).
    """

    __tablename__ = "campaign_events"
    __table_args__ = (
        # The dispatcher's scan: pending events by when they are due.
        Index(
            "ix_campaign_events_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending' AND sequence IS NOT NULL"),
        ),
        # Events not numbered yet, in the order they were written.
        Index(
            "ix_campaign_events_unnumbered",
            "ordinal",
            postgresql_where=text("sequence IS NULL"),
        ),
        # A campaign's events in order (its listing, and its highest sequence so far).
        Index("ix_campaign_events_campaign_sequence", "campaign_id", "sequence"),
        Index("ix_campaign_events_campaign_status", "campaign_id", "status", "ordinal"),
        # Delivered events by when, for clearing out the old ones.
        Index(
            "ix_campaign_events_delivered",
            "delivered_at",
            postgresql_where=text("status = 'delivered'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    ordinal: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[CampaignEventStatus] = mapped_column(
        String(20), default=CampaignEventStatus.PENDING
    )
    # Attempts in the current round (redelivery starts a new one).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Retries stop this long after it (the event's time; a redelivery's).
    retry_window_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Claimed for delivery until then; a worker that dies leaves it to be claimed again.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
