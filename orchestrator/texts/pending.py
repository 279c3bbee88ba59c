"""How many texts may still be queued from each caller number this dispatch.

A text holds no line, so a campaign's texts are not bounded by its ``maxConcurrency``; they
are bounded by the caller number's messages per second: a dispatch queues at most a few
seconds' worth per number, less those already waiting to be sent, so the senders always
have work and the queue never holds a whole campaign.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.models import Chat, PhoneNumber, TextStatus

DEFAULT_MESSAGES_PER_SECOND = 1.0
# Seconds of texts per caller number queued ahead of the senders.
TEXT_LOOKAHEAD_SECONDS = 5.0


def messages_per_second_of(
    session: Session, *, org_id: uuid.UUID, caller_number_ids: Sequence[str | None]
) -> dict[str | None, float]:
    rates: dict[str | None, float] = dict.fromkeys(caller_number_ids, DEFAULT_MESSAGES_PER_SECOND)
    known = [caller for caller in caller_number_ids if caller is not None]
    if not known:
        return rates
    stmt = select(PhoneNumber.provider_phone_number_id, PhoneNumber.messages_per_second).where(
        PhoneNumber.org_id == org_id, PhoneNumber.provider_phone_number_id.in_(known)
    )
    for caller, rate in session.execute(stmt):
        if rate is not None:
            rates[caller] = rate
    return rates


def waiting_texts(
    session: Session, *, org_id: uuid.UUID, caller_number_ids: Sequence[str | None]
) -> dict[str | None, int]:
    """Texts of the org not sent yet (queued or being sent), per caller number."""
    stmt = (
        select(Chat.phone_number_id, func.count())
        .where(
            Chat.org_id == org_id,
            Chat.delivery_status.in_([TextStatus.QUEUED, TextStatus.SENDING]),
        )
        .group_by(Chat.phone_number_id)
    )
    waiting: dict[str | None, int] = dict.fromkeys(caller_number_ids, 0)
    for caller, count in session.execute(stmt):
        if caller in waiting:
            waiting[caller] = int(count)
    return waiting


def text_allowances(
    session: Session, *, org_id: uuid.UUID, caller_number_ids: Sequence[str | None]
) -> dict[str | None, int]:
    """Per caller number: texts this dispatch may queue (a few seconds' worth, less those
    still waiting)."""
    rates = messages_per_second_of(session, org_id=org_id, caller_number_ids=caller_number_ids)
    waiting = waiting_texts(session, org_id=org_id, caller_number_ids=caller_number_ids)
    return {
        caller: max(0, math.ceil(rates[caller] * TEXT_LOOKAHEAD_SECONDS) - waiting[caller])
        for caller in caller_number_ids
    }
