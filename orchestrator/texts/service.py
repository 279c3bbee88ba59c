"""Outbound texts stored to be sent: a chat with the SMS transport, in its session.

A text is stored ``queued`` in the caller's transaction with the session it goes out in (the
one named, or a new one for its caller number and customer), and sent by the workers after
the commit (``TaskQueue.send_texts``): a rate slot for its caller number, the gate, then the
provider's ``POST /chat``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.models import Chat, ChatSession, SessionStatus, TextPurpose, TextStatus
from orchestrator.suppression.numbers import canonical_number

SMS_TRANSPORT = "twilio.sms"


@dataclass(frozen=True)
class TextRequest:
    """What to send, to whom and from which number; ``session_id`` continues a session (its
    caller number and customer are then the session's)."""

    org_id: uuid.UUID
    input: Any
    phone_number_id: str | None = None
    customer: dict[str, Any] | None = None
    session_id: uuid.UUID | None = None
    transport: dict[str, Any] = field(default_factory=lambda: {"type": SMS_TRANSPORT})
    assistant_id: str | None = None
    assistant: dict[str, Any] | None = None
    assistant_overrides: dict[str, Any] | None = None
    squad_id: str | None = None
    squad: dict[str, Any] | None = None
    name: str | None = None
    purpose: TextPurpose = TextPurpose.API
    campaign_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None


def customer_number_of(customer: dict[str, Any] | None) -> str | None:
    """The customer's number in canonical E.164 (as the suppression list holds numbers)."""
    number = (customer or {}).get("number")
    if not isinstance(number, str):
        return None
    return canonical_number(number) or number


def open_session_for(session: Session, *, request: TextRequest, now: datetime) -> ChatSession:
    """A new session for the text's caller number and customer."""
    opened = ChatSession(
        org_id=request.org_id,
        status=SessionStatus.ACTIVE,
        assistant_id=request.assistant_id,
        assistant=request.assistant,
        assistant_overrides=request.assistant_overrides,
        squad_id=request.squad_id,
        squad=request.squad,
        customer=request.customer,
        customer_number=customer_number_of(request.customer),
        phone_number_id=request.phone_number_id,
        campaign_id=request.campaign_id,
        contact_id=request.contact_id,
        last_activity_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(opened)
    session.flush()
    return opened


def queue_text(
    session: Session, *, request: TextRequest, now: datetime, in_session: ChatSession | None = None
) -> Chat:
    """Store one text, ``queued`` and due now, in ``in_session`` (already found and checked by
    the caller, for ``request.session_id``) or in a new session. The caller commits, then has
    it sent (``TaskQueue.send_texts``)."""
    conversation = in_session or open_session_for(session, request=request, now=now)
    chat = Chat(
        org_id=request.org_id,
        session_id=conversation.id,
        name=request.name,
        assistant_id=request.assistant_id,
        assistant=request.assistant,
        assistant_overrides=request.assistant_overrides,
        squad_id=request.squad_id,
        squad=request.squad,
        input=request.input,
        transport=request.transport,
        purpose=request.purpose,
        delivery_status=TextStatus.QUEUED,
        phone_number_id=conversation.phone_number_id,
        customer=conversation.customer,
        customer_number=conversation.customer_number,
        campaign_id=request.campaign_id,
        contact_id=request.contact_id,
        due_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(chat)
    session.flush()
    return chat
