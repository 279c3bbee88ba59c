"""contact.sms-sent and contact.sms-replied: only for campaigns whose serverMessages name them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.events.text_events import record_text_events
from orchestrator.models import ChatSession, Contact, OutboxEvent
from tests.factories import make_campaign, make_org
from tests.factories.texts import queued_text

SERVER = {"url": "https://example.com/hook"}


def test_text_events_reach_only_campaigns_that_name_them(session: Session) -> None:
    org = make_org(session)
    named = make_campaign(
        session, org=org, server=SERVER, serverMessages=["contact.sms-sent", "contact.sms-replied"]
    )
    vapi_only = make_campaign(session, org=org, server=SERVER)
    chats = [
        queued_text(session, org=org, campaign_id=campaign_id, number=number)
        for campaign_id, number in ((named, "+14155550111"), (vapi_only, "+14155550112"))
    ]
    sessions = [session.get(ChatSession, chat.session_id) for chat in chats]
    for chat in chats:
        chat.contact_id = None
    assert record_text_events(session, sent_chats=chats) == 0  # no contact: passed over
    for chat in chats:
        chat.contact_id = _contact_of(session, chat.campaign_id)
    replied = [s for s in sessions if s is not None]
    for conversation in replied:
        conversation.campaign_id = conversation.campaign_id or named
        conversation.contact_id = _contact_of(session, conversation.campaign_id)
    written = record_text_events(session, sent_chats=chats, replied_sessions=replied)
    assert written == 2
    texts = ("contact.sms-sent", "contact.sms-replied")
    events = session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.event_type.in_(texts), OutboxEvent.campaign_id.in_((named, vapi_only))
        )
    ).all()
    assert {(e.campaign_id, e.event_type) for e in events} == {
        (named, "contact.sms-sent"),
        (named, "contact.sms-replied"),
    }


def _contact_of(session: Session, campaign_id: uuid.UUID | None) -> uuid.UUID:
    contact_id = session.scalar(select(Contact.id).where(Contact.campaign_id == campaign_id))
    assert contact_id is not None
    return contact_id
