from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.models.base import Base


class DecisionKind(StrEnum):
    """What the scheduler or the gate decided about a contact (see ``orchestrator.decisions``)."""

    CLAIMED = "claimed"
    DIALED = "dialed"
    DEFERRED = "deferred"
    SKIPPED = "skipped"
    CLOSED = "closed"
    PREDIAL = "predial"
    SUPPRESSED = "suppressed"


class ContactDecision(Base):
    """One decision about one contact, in the order taken (``id``).

    Only the contact is a foreign key: its campaign and org are copied for filtering, and
    ``call_id`` names an attempt that may be gone (a claim withdrawn on pause deletes its call).
    """

    __tablename__ = "contact_decisions"
    __table_args__ = (
        # A contact's history is one range of this index, newest last.
        Index("ix_contact_decisions_contact", "contact_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    campaign_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[DecisionKind] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(200))
    # When the contact is tried again, if known (deferrals, a pre-dial check retried).
    retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    call_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
