"""Campaign events of texts: ``contact.sms-sent`` when a contact's text (its campaign text
or a follow-up) was sent, ``contact.sms-replied`` when the customer replied in its session.

Written in the caller's transaction, beside the change they report, and only for campaigns
whose ``serverMessages`` names the type: a receiver of Vapi's events sees nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from orchestrator.events.recording import record_events
from orchestrator.events.repository import NewEvent
from orchestrator.events.states import EventType
from orchestrator.models import Chat, ChatSession


def sms_sent_event(chat: Chat) -> NewEvent | None:
    if chat.campaign_id is None or chat.contact_id is None:
        return None
    data = {
        "contactId": str(chat.contact_id),
        "chatId": str(chat.id),
        "sessionId": str(chat.session_id) if chat.session_id else None,
        "purpose": str(chat.purpose),
    }
    return NewEvent(chat.campaign_id, EventType.CONTACT_SMS_SENT, data)


def sms_replied_event(replied: ChatSession) -> NewEvent | None:
    if replied.campaign_id is None or replied.contact_id is None:
        return None
    data = {"contactId": str(replied.contact_id), "sessionId": str(replied.id)}
    return NewEvent(replied.campaign_id, EventType.CONTACT_SMS_REPLIED, data)


def record_text_events(
    session: Session,
    *,
    sent_chats: Sequence[Chat] = (),
    replied_sessions: Sequence[ChatSession] = (),
    now: datetime | None = None,
) -> int:
    """The events of texts just sent and sessions just replied in (each once: the caller
    passes a chat when it becomes sent, a session on its first reply); how many were written.
    Texts and sessions of no campaign contact are passed over."""
    events = [e for chat in sent_chats if (e := sms_sent_event(chat)) is not None]
    events += [e for s in replied_sessions if (e := sms_replied_event(s)) is not None]
    return record_events(session, events, now=now)
