from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.clock import utcnow
from orchestrator.models.base import Base


class Suppression(Base):
    """One number an org must not contact (until ``expires_at``, when set), and why."""

    __tablename__ = "suppressions"
    __table_args__ = (
        # ``GET /suppression?reason=`` pages one reason in number order.
        Index("ix_suppressions_org_reason", "org_id", "reason", "number"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    # E.164, as every number the gate compares it with.
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
