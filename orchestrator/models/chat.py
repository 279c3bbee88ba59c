from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Index, String, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.models.base import Base, Timestamped, new_id
from orchestrator.models.enums import TextPurpose, TextStatus


class Chat(Timestamped, Base):
    """A chat (Vapi's Chat) that went through us: a plain API chat, forwarded at once, or an
    outbound text (``transport`` ``twilio.sms``), sent by the workers under the gate.

    ``delivery_status`` is NULL for a plain chat; for a text it is its ``TextStatus``.
    ``customer_number`` (canonical E.164) and ``phone_number_id`` (the caller) are the text's
    recipient and sender, read from its transport or from its session.
    """

    __tablename__ = "chats"
    __table_args__ = (
        Index("ix_chats_org_created", "org_id", "created_at"),
        Index(
            "ix_chats_provider_id",
            "provider_chat_id",
            unique=True,
            postgresql_where=text("provider_chat_id IS NOT NULL"),
        ),
        Index("ix_chats_session", "session_id", "created_at"),
        # Queued texts by when they may next be tried: what the text dispatcher claims.
        Index(
            "ix_chats_queued_due",
            "due_at",
            postgresql_where=text("delivery_status = 'queued'"),
        ),
        # Texts whose create answer was lost: what the lookup sweep settles.
        Index(
            "ix_chats_sending",
            "sent_at",
            postgresql_where=text("delivery_status = 'sending'"),
        ),
        Index("ix_chats_campaign_contact", "campaign_id", "contact_id"),
        # One campaign text, and one follow-up, per contact: whatever order reports come in.
        Index(
            "ix_chats_one_campaign_text",
            "contact_id",
            "purpose",
            unique=True,
            postgresql_where=text(
                "contact_id IS NOT NULL AND purpose IN ('campaign', 'follow-up')"
            ),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    provider_chat_id: Mapped[str | None] = mapped_column(String(200))
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL")
    )
    # A chat of ours (no foreign key: Vapi keeps a chat whose previous chat was deleted).
    previous_chat_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    name: Mapped[str | None] = mapped_column(String(400))
    assistant_id: Mapped[str | None] = mapped_column(String(200))
    assistant: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    assistant_overrides: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    squad_id: Mapped[str | None] = mapped_column(String(200))
    squad: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # A string or a list of messages, as given.
    input: Mapped[Any] = mapped_column(JSONB)
    messages: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default="[]")
    output: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default="[]")
    cost: Mapped[float | None] = mapped_column(Float)
    costs: Mapped[list[Any] | None] = mapped_column(JSONB)
    transport: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    purpose: Mapped[TextPurpose] = mapped_column(String(20), default=TextPurpose.API)
    delivery_status: Mapped[TextStatus | None] = mapped_column(String(20))
    delivery_reason: Mapped[str | None] = mapped_column(String(2000))
    phone_number_id: Mapped[str | None] = mapped_column(String(200))
    customer: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    customer_number: Mapped[str | None] = mapped_column(String(64))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE")
    )
    # When a queued text may next be tried (its rate slot, hours opening, a cap's allowance).
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When its create request left: the attempt the frequency caps count, and the lookup's
    # lower bound when its answer was lost.
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last news of it from the provider (its create answer, a message, a lookup).
    provider_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the provider said it deleted the chat (``chat.deleted``): our row stays, the
    # record of what went through us.
    provider_deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
