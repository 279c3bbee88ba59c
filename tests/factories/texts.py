"""Outbound texts and their sessions, as ``POST /chat`` with the SMS transport stores them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.models import Chat, ChatSession
from orchestrator.orgs.service import CreatedOrg
from orchestrator.scheduling.service import dispatch_org
from orchestrator.texts.service import TextRequest, queue_text
from tests.factories.campaigns import make_campaign


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


SMS_PLAN = {"input": "Hi {{customer.name | default: 'there'}}, reply YES to confirm."}


def sms_campaign_texts(
    session: Session, *, org: CreatedOrg, customers: int, now: datetime, **fields: Any
) -> tuple[uuid.UUID, list[Chat]]:
    """An sms campaign dispatched at ``now``: its id and its queued texts, in id order."""
    campaign_id = make_campaign(
        session, org=org, customers=customers, channel="sms", smsPlan=SMS_PLAN, **fields
    )
    dispatch_org(session, org_id=org.org_id, now=now, batch_limit=500)
    texts = session.scalars(select(Chat).where(Chat.campaign_id == campaign_id).order_by(Chat.id))
    return campaign_id, list(texts)
