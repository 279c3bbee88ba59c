from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.models.base import Base, Timestamped, new_id
from orchestrator.models.enums import SessionStatus


class ChatSession(Timestamped, Base):
    """A conversation with one customer over chats (Vapi's Session): ours, kept in step with
    the provider's (``provider_session_id``) by its messages and by polling.

    ``customer_number`` is the customer's number in canonical E.164 (the suppression list's
    form), for ``customerNumberAny`` and for opt-outs heard in it.
    """

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_org_created", "org_id", "created_at"),
        Index(
            "ix_sessions_provider_id",
            "provider_session_id",
            unique=True,
            postgresql_where=text("provider_session_id IS NOT NULL"),
        ),
        Index("ix_sessions_org_customer_number", "org_id", "customer_number"),
        # Active sessions whose news stopped: the ones polled, least recently heard first.
        Index(
            "ix_sessions_active_synced",
            "provider_synced_at",
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_sessions_campaign_contact", "campaign_id", "contact_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    provider_session_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(400))
    status: Mapped[SessionStatus] = mapped_column(String(20), default=SessionStatus.ACTIVE)
    expiration_seconds: Mapped[int | None] = mapped_column(Integer)
    assistant_id: Mapped[str | None] = mapped_column(String(200))
    assistant: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    assistant_overrides: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    squad_id: Mapped[str | None] = mapped_column(String(200))
    squad: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    customer_id: Mapped[str | None] = mapped_column(String(200))
    customer: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    customer_number: Mapped[str | None] = mapped_column(String(64))
    phone_number_id: Mapped[str | None] = mapped_column(String(200))
    phone_number: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    messages: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default="[]")
    cost: Mapped[float | None] = mapped_column(Float)
    costs: Mapped[list[Any] | None] = mapped_column(JSONB)
    artifact: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The campaign contact it was opened for (a campaign's text or a follow-up), if any.
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE")
    )
    # The last message in it (either side): ``expirationSeconds`` of silence after it ends it.
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last news of it from the provider (a message or a poll).
    provider_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The customer's first reply, and the opt-out heard in it (a STOP), if any.
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
