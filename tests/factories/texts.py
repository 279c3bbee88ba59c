"""Outbound texts and their sessions, as ``POST /chat`` with the SMS transport stores them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.models import Chat, ChatSession
from orchestrator.orgs.service import CreatedOrg
from orchestrator.texts.service import TextRequest, queue_text


def queued_text(
    session: Session,
    *,
    org: CreatedOrg,
    number: str = "+14155550100",
    phone_number_id: str = "sms-caller",
    text: str = "Your appointment is tomorrow at 10.",
    in_session: ChatSession | None = None,
    **fields: Any,
) -> Chat:
    request = TextRequest(
        org_id=org.org_id,
        input=text,
        phone_number_id=None if in_session else phone_number_id,
        customer=None if in_session else {"number": number},
        session_id=in_session.id if in_session else None,
        **fields,
    )
    return queue_text(session, request=request, now=utcnow(), in_session=in_session)
