"""A call campaign's follow-up text (``followUpPlan.sms``): one per contact, queued in the
transaction that applies the end of the call it follows, in the contact's session.

Exactly one: the contact's row is locked while its call's end is applied, texts already
queued for it are looked for first, and ``ix_chats_one_campaign_text`` (one text per
contact and purpose) holds even if two appliers got past that.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, any_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from orchestrator.campaigns.text_plans import FollowUpSmsIn, follow_up_of, follows_up
from orchestrator.models import (
    Campaign,
    CampaignEndedReason,
    Chat,
    ChatSession,
    SessionStatus,
    TextPurpose,
)
from orchestrator.sql import array_param
from orchestrator.texts.service import SMS_TRANSPORT, TextRequest, queue_text
from orchestrator.texts.templates import TemplateError, render_text

logger = logging.getLogger(__name__)

STOPPED_BY_USER = frozenset(
    {CampaignEndedReason.SCHEDULED_ENDED_BY_USER, CampaignEndedReason.IN_PROGRESS_ENDED_BY_USER}
)


def sms_transport(
    *, use_llm: bool, phone_number_id: str | None = None, customer: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Vapi's ``TwilioSMSChatTransport``: the caller and customer only when a session opens
    (Vapi refuses them with a ``sessionId``)."""
    transport: dict[str, Any] = {"type": SMS_TRANSPORT}
    if phone_number_id is not None:
        transport["phoneNumberId"] = phone_number_id
    if customer is not None:
        transport["customer"] = customer
    transport["useLLMGeneratedMessageForOutbound"] = use_llm
    return transport


@dataclass(frozen=True)
class FollowUp:
    """A contact whose call ended in a way its campaign follows up with a text."""

    campaign: Campaign
    contact_id: uuid.UUID
    customer: dict[str, Any]
    phone_number_id: str | None
    plan: FollowUpSmsIn


def follow_up_for(
    campaign: Campaign | None,
    *,
    contact_id: uuid.UUID,
    customer: dict[str, Any],
    phone_number_id: str | None,
    ended_reason: str | None,
    final: bool,
) -> FollowUp | None:
    """The follow-up a call's end calls for, if any: the plan names how it ended, and it was
    the contact's last attempt (or the plan does not wait for the last).

    None once the user stopped the campaign (ended, cancelled, or archived while it ran): its
    calls in flight finish, but what was not sent at the stop, follow-ups included, is not sent.
    """
    if campaign is None or campaign.ended_reason in STOPPED_BY_USER:
        return None
    plan = follow_up_of(campaign.extensions)
    if plan is None or not follows_up(plan, ended_reason):
        return None
    if plan.after_final_attempt and not final:
        return None
    return FollowUp(campaign, contact_id, customer, phone_number_id, plan)


def _followed_up(session: Session, contact_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    stmt = select(Chat.contact_id).where(
        Chat.contact_id == any_(array_param("ids", contact_ids, Uuid)),
        Chat.purpose == TextPurpose.FOLLOW_UP,
    )
    return {contact_id for contact_id in session.scalars(stmt) if contact_id is not None}


def _open_sessions(
    session: Session, contact_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ChatSession]:
    """Each contact's latest active session (its conversation goes on there)."""
    stmt = (
        select(ChatSession)
        .where(
            ChatSession.contact_id == any_(array_param("ids", contact_ids, Uuid)),
            ChatSession.status == SessionStatus.ACTIVE,
        )
        .order_by(ChatSession.contact_id, ChatSession.created_at.desc())
        .ext(distinct_on(ChatSession.contact_id))
    )
    return {s.contact_id: s for s in session.scalars(stmt) if s.contact_id is not None}


def queue_follow_ups(
    session: Session, follow_ups: Sequence[FollowUp], *, now: datetime
) -> list[uuid.UUID]:
    """Queue each contact's follow-up text, once (the sender's sweep sends it); their ids."""
    unique = list({f.contact_id: f for f in follow_ups}.values())
    if not unique:
        return []
    contact_ids = [f.contact_id for f in unique]
    done = _followed_up(session, contact_ids)
    sessions = _open_sessions(session, contact_ids)
    chat_ids: list[uuid.UUID] = []
    for follow_up in unique:
        if follow_up.contact_id in done:
            continue
        chat = _queue(session, follow_up, sessions.get(follow_up.contact_id), now=now)
        if chat is not None:
            chat_ids.append(chat.id)
    return chat_ids


def _queue(
    session: Session, follow_up: FollowUp, existing: ChatSession | None, *, now: datetime
) -> Chat | None:
    campaign, plan = follow_up.campaign, follow_up.plan
    try:
        text = render_text(
            plan.input, customer=follow_up.customer, campaign_overrides=campaign.assistant_overrides
        )
    except TemplateError as error:
        logger.warning("follow-up of contact %s not rendered: %s", follow_up.contact_id, error)
        return None
    transport = sms_transport(
        use_llm=plan.use_llm_generated_message_for_outbound,
        phone_number_id=None if existing else follow_up.phone_number_id,
        customer=None if existing else follow_up.customer,
    )
    request = TextRequest(
        org_id=campaign.org_id,
        input=text,
        phone_number_id=None if existing else follow_up.phone_number_id,
        customer=None if existing else follow_up.customer,
        session_id=existing.id if existing else None,
        transport=transport,
        assistant_id=campaign.assistant_id,
        assistant_overrides=campaign.assistant_overrides,
        squad_id=campaign.squad_id,
        purpose=TextPurpose.FOLLOW_UP,
        campaign_id=campaign.id,
        contact_id=follow_up.contact_id,
    )
    return queue_text(session, request=request, now=now, in_session=existing)
