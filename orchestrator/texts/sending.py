"""What sending one text decides and records: its request, its gate target, its outcomes.

Every delivery change goes through ``next_text_status``; a text that moved on meanwhile (an
answer applied twice, a lookup racing a late answer) is left as it is. The transactions
around these steps, and the ``POST /chat`` itself, are ``flows.send_text``'s.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.config import get_settings
from orchestrator.events.text_events import record_text_events
from orchestrator.gate.decisions import GateDecision, Prospect, listed_forms, recipient_key
from orchestrator.gate.send import SendTarget
from orchestrator.models import (
    Campaign,
    CampaignStatus,
    Chat,
    ChatSession,
    Contact,
    SessionStatus,
    TextPurpose,
)
from orchestrator.models.recipient_attempt import SMS_CHANNEL
from orchestrator.providers.webhook_server import our_webhook_server
from orchestrator.reasons import CAMPAIGN_STOPPED, WINDOW_CLOSED
from orchestrator.scheduling.calling_hours.zone_key import contact_zone_key
from orchestrator.texts.contacts import settle_text_contacts
from orchestrator.texts.service import SMS_TRANSPORT
from orchestrator.texts.states import TextEvent, next_text_status

# The key a text is found by at the provider when its create answer was lost.
CHAT_ID_METADATA = "orchestratorChatId"
LLM_FLAG = "useLLMGeneratedMessageForOutbound"
# Why a text with no customer number to send to ends unsent (it cannot be checked).
NO_CUSTOMER_NUMBER = "the text has no customer number to send to"
# How long a text of a paused campaign waits before it is looked at again.
PAUSED_RECHECK = timedelta(minutes=1)
_OVER = (CampaignStatus.ENDED, CampaignStatus.CANCELLED, CampaignStatus.ARCHIVED)


def move_text(chat: Chat, event: TextEvent, *, now: datetime, **changes: Any) -> bool:
    """Apply ``event`` (and ``changes`` with it) if it applies to the text as it is now."""
    after = next_text_status(chat.delivery_status, event) if chat.delivery_status else None
    if after is None:
        return False
    chat.delivery_status = after
    for name, value in changes.items():
        setattr(chat, name, value)
    chat.updated_at = now
    return True


def _overrides(chat: Chat) -> dict[str, Any]:
    overrides = copy.deepcopy(chat.assistant_overrides or {})
    metadata = overrides.get("metadata")
    overrides["metadata"] = {
        **(metadata if isinstance(metadata, dict) else {}),
        CHAT_ID_METADATA: str(chat.id),
    }
    # Its session's messages (the customer's replies) come to our webhook.
    overrides["server"] = our_webhook_server(get_settings())
    return overrides


def create_body(chat: Chat, provider_session_id: str | None) -> dict[str, Any]:
    """``POST /chat`` for the text: the first of its session names the assistant, the caller
    number and the customer (the provider opens the session); a later one names the session
    only (never the session with a number or a customer)."""
    flag = (chat.transport or {}).get(LLM_FLAG, True)
    body: dict[str, Any] = {"input": chat.input, "assistantOverrides": _overrides(chat)}
    if provider_session_id is not None:
        body["sessionId"] = provider_session_id
        body["transport"] = {"type": SMS_TRANSPORT, LLM_FLAG: flag}
        return body
    for key, value in (
        ("assistantId", chat.assistant_id),
        ("assistant", chat.assistant),
        ("squadId", chat.squad_id),
        ("squad", chat.squad),
        ("name", chat.name),
    ):
        if value is not None:
            body[key] = value
    body["transport"] = {
        "type": SMS_TRANSPORT,
        "phoneNumberId": chat.phone_number_id,
        "customer": chat.customer,
        LLM_FLAG: flag,
    }
    return body


def text_send_target(session: Session, *, chat: Chat) -> SendTarget:
    """What the send-time check needs of a text (its contact's, for a campaign's)."""
    number = (chat.customer or {}).get("number")
    campaign = session.get(Campaign, chat.campaign_id) if chat.campaign_id else None
    contact = session.get(Contact, chat.contact_id) if chat.contact_id else None
    prospect = Prospect(
        id=chat.contact_id or chat.id,
        number=recipient_key(number),
        subject=chat.campaign_id,
        window_end=campaign.latest_at if campaign is not None else None,
        listed_as=listed_forms(number),
    )
    if contact is not None:
        zone_key = contact.zone_key
    else:
        timezone = (chat.customer or {}).get("timezone")
        zone_key = contact_zone_key(number=number, customer_timezone=timezone)
    return SendTarget(
        chat.id, chat.org_id, chat.campaign_id, prospect, zone_key, channel=SMS_CHANNEL
    )


def withdraw_text(session: Session, *, chat: Chat, reason: str, now: datetime) -> None:
    """The text ends unsent, and its campaign contact with it."""
    if move_text(chat, TextEvent.WITHDRAW, now=now, delivery_reason=reason):
        settle_text_contacts(session, chats=[chat])


def _campaign_hold(session: Session, *, chat: Chat, now: datetime) -> str | datetime | None:
    # A follow-up text follows a call the campaign made: it goes out after the campaign ends.
    if chat.purpose != TextPurpose.CAMPAIGN or chat.campaign_id is None:
        return None
    campaign = session.get(Campaign, chat.campaign_id)
    if campaign is None:
        return None
    if campaign.status in _OVER:
        return CAMPAIGN_STOPPED
    if campaign.latest_at is not None and now >= campaign.latest_at:
        return WINDOW_CLOSED
    if campaign.status == CampaignStatus.PAUSED:
        return now + PAUSED_RECHECK
    return None


def hold_before_send(session: Session, *, chat: Chat, now: datetime) -> bool:
    """A queued text that must not leave now (locked by the caller): with no number to check
    and send to, or (a campaign's own text) its campaign over, it ends unsent; its campaign
    paused, it waits. True when it was held."""
    if recipient_key((chat.customer or {}).get("number")) is None:
        withdraw_text(session, chat=chat, reason=NO_CUSTOMER_NUMBER, now=now)
        return True
    hold = _campaign_hold(session, chat=chat, now=now)
    if isinstance(hold, str):
        withdraw_text(session, chat=chat, reason=hold, now=now)
    elif hold is not None:
        chat.due_at, chat.updated_at = hold, now
    return hold is not None


def hold_back_text(session: Session, *, chat: Chat, decision: GateDecision, now: datetime) -> None:
    """A text the send-time check held back (never sent): it ends, or waits for its turn."""
    reason = decision.skip_reason
    if reason is not None:
        withdraw_text(session, chat=chat, reason=reason, now=now)
    elif decision.until is not None:
        move_text(chat, TextEvent.RELEASE, now=now, due_at=decision.until)


@dataclass(frozen=True)
class Accepted:
    """A text the provider has, and the session whose provider id it just taught us (the
    messages about either that beat the answer wait for the caller to apply them)."""

    chat: Chat
    learned_session: ChatSession | None = None


def record_accepted(
    session: Session, *, chat: Chat, answer: dict[str, Any], now: datetime
) -> Accepted | None:
    """The provider has the text (its create answer, or a lookup that found it); None when
    it had moved on already."""
    accepted = move_text(
        chat,
        TextEvent.ACCEPT,
        now=now,
        provider_chat_id=answer["id"],
        provider_synced_at=now,
        delivery_reason=None,
    )
    if not accepted:
        return None
    for field, key in (("messages", "messages"), ("output", "output")):
        if isinstance(answer.get(key), list):
            setattr(chat, field, answer[key])
    if isinstance(answer.get("cost"), int | float):
        chat.cost = float(answer["cost"])
    if isinstance(answer.get("costs"), list):
        chat.costs = answer["costs"]
    learned = _learn_session(session, chat=chat, answer=answer, now=now)
    settle_text_contacts(session, chats=[chat])
    record_text_events(session, sent_chats=[chat], now=now)
    return Accepted(chat, learned)


def _learn_session(
    session: Session, *, chat: Chat, answer: dict[str, Any], now: datetime
) -> ChatSession | None:
    """The text's session, active again; returned when its provider id was learned here."""
    provider_session_id = answer.get("sessionId")
    chat_session = (
        session.get(ChatSession, chat.session_id, with_for_update=True) if chat.session_id else None
    )
    if chat_session is None or not isinstance(provider_session_id, str):
        return None
    chat_session.last_activity_at = now
    chat_session.updated_at = now
    # The provider reopens a session a text goes out in: its news is awaited again.
    chat_session.status = SessionStatus.ACTIVE
    if chat_session.provider_session_id is not None:
        return None
    chat_session.provider_session_id = provider_session_id
    session.flush()
    return chat_session


def record_refused(session: Session, *, chat: Chat, message: str, now: datetime) -> None:
    if move_text(chat, TextEvent.REFUSE, now=now, delivery_reason=message[:2000]):
        settle_text_contacts(session, chats=[chat])
