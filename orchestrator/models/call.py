from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.models.base import Base, Timestamped, new_id
from orchestrator.models.enums import CallStatus

SCHEDULED_SQL = "status = 'scheduled'"
IN_FLIGHT_SQL = "status IN ('claimed', 'dialing', 'queued', 'ringing', 'in-progress', 'forwarding')"


class Call(Timestamped, Base):
    """One call attempt. ``provider_call_id`` is known once the provider accepted the create."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_in_flight_org", "org_id", postgresql_where=text(IN_FLIGHT_SQL)),
        Index("ix_calls_in_flight_campaign", "campaign_id", postgresql_where=text(IN_FLIGHT_SQL)),
        Index(
            "ix_calls_in_flight_caller",
            "org_id",
            "phone_number_id",
            postgresql_where=text(IN_FLIGHT_SQL),
        ),
        Index("ix_calls_caller_dialed", "org_id", "phone_number_id", "dialed_at"),
        Index("ix_calls_campaign_created", "campaign_id", "created_at"),
        Index("ix_calls_contact", "contact_id"),
        # Direct calls waiting: per caller number in due order, due ones across orgs, expiring ones.
        Index(
            "ix_calls_scheduled",
            "org_id",
            "phone_number_id",
            "not_before",
            "seq",
            postgresql_where=text(SCHEDULED_SQL),
        ),
        Index("ix_calls_scheduled_due", "not_before", postgresql_where=text(SCHEDULED_SQL)),
        Index("ix_calls_scheduled_expiry", "not_after", postgresql_where=text(SCHEDULED_SQL)),
        Index("ix_calls_org_created", "org_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE")
    )
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    provider_call_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[CallStatus] = mapped_column(String(20), default=CallStatus.CLAIMED)
    ended_reason: Mapped[str | None] = mapped_column(String(200))
    phone_number_id: Mapped[str | None] = mapped_column(String(200))
    customer: Mapped[dict[str, Any]] = mapped_column(JSONB)
    dialed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cost: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str | None] = mapped_column(Text)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_message: Mapped[str | None] = mapped_column(Text)
    # Calls made through ``POST /call`` (no campaign): what to send, and when it may be sent.
    request: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    name: Mapped[str | None] = mapped_column(String(200))
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    not_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Arrival order: direct calls without a time go first come, first served (a batch in order).
    seq: Mapped[int] = mapped_column(BigInteger, Identity())
