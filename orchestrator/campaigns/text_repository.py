"""Queries on a campaign's texts: its delivery counts, and each contact's last text."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ScalarSelect, Uuid, any_, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import InstrumentedAttribute, Session

from orchestrator.models import Chat, ChatSession, TextPurpose, TextStatus
from orchestrator.sql import array_param


def _texts_in(campaign_id: uuid.UUID, *statuses: TextStatus) -> ScalarSelect[int]:
    return (
        select(func.count())
        .where(Chat.campaign_id == campaign_id, Chat.delivery_status.in_(list(statuses)))
        .scalar_subquery()
    )


def _sessions_with(campaign_id: uuid.UUID, stamp: InstrumentedAttribute[Any]) -> ScalarSelect[int]:
    return (
        select(func.count())
        .where(ChatSession.campaign_id == campaign_id, stamp.is_not(None))
        .scalar_subquery()
    )


def sms_counters(session: Session, *, campaign_id: uuid.UUID) -> dict[str, int]:
    """``smsCounters``, exact, in one statement: the campaign's texts by delivery (``queued``
    counts those being sent), and its sessions replied in and opted out of."""
    row = session.execute(
        select(
            _texts_in(campaign_id, TextStatus.QUEUED, TextStatus.SENDING),
            _texts_in(campaign_id, TextStatus.SENT),
            _texts_in(campaign_id, TextStatus.FAILED),
            _sessions_with(campaign_id, ChatSession.replied_at),
            _sessions_with(campaign_id, ChatSession.opted_out_at),
        )
    ).one()
    queued, sent, failed, replied, opted_out = (int(value) for value in row)
    return {
        "queued": queued,
        "sent": sent,
        "failed": failed,
        "replied": replied,
        "optedOut": opted_out,
    }


@dataclass(frozen=True)
class LastText:
    chat_id: uuid.UUID
    session_id: uuid.UUID | None
    status: TextStatus
    reason: str | None


def last_texts(session: Session, *, contact_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, LastText]:
    """Each contact's latest text (campaign text or follow-up), by ``ix_chats_campaign_contact``."""
    if not contact_ids:
        return {}
    stmt = (
        select(
            Chat.contact_id,
            Chat.id,
            Chat.session_id,
            Chat.delivery_status,
            Chat.delivery_reason,
        )
        .where(
            Chat.contact_id == any_(array_param("ids", contact_ids, Uuid)),
            Chat.delivery_status.is_not(None),
        )
        .order_by(Chat.contact_id, Chat.created_at.desc(), Chat.id.desc())
        .ext(distinct_on(Chat.contact_id))
    )
    return {
        contact_id: LastText(chat_id, session_id, TextStatus(str(status)), reason)
        for contact_id, chat_id, session_id, status, reason in session.execute(stmt)
        if contact_id is not None
    }


def queued_texts_for_update(session: Session, *, campaign_id: uuid.UUID) -> Sequence[Chat]:
    """The campaign's texts (its own and its follow-ups) not yet being sent, locked in id
    order. A text a sender has already taken (``sending``) is not among them."""
    stmt = (
        select(Chat)
        .where(
            Chat.campaign_id == campaign_id,
            Chat.delivery_status == TextStatus.QUEUED,
            Chat.purpose.in_((TextPurpose.CAMPAIGN, TextPurpose.FOLLOW_UP)),
        )
        .order_by(Chat.id)
        .with_for_update()
    )
    return session.scalars(stmt.execution_options(populate_existing=True)).all()
