"""Texts withdrawn before they were sent: a campaign's when it stops or its window closes, a
session's when it is deleted, one chat when it is deleted.

Each moves as ``WITHDRAW`` says (``failed``, with the reason) and its contact is settled
(``texts.contacts``: skipped with that reason). A text already ``sending`` is past this point:
it finishes like any text in flight and settles its contact when it ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from orchestrator.campaigns import text_repository
from orchestrator.models import Chat, TextStatus
from orchestrator.texts.contacts import settle_text_contacts
from orchestrator.texts.states import TextEvent, next_text_status


def withdraw_texts(
    session: Session, *, chats: Sequence[Chat], reason: str, now: datetime
) -> list[Chat]:
    """Withdraw those of ``chats`` (locked by the caller) that may be; the withdrawn.

    Their contacts are settled (their campaigns ended once nothing is left open)."""
    withdrawn = []
    for chat in chats:
        status = TextStatus(chat.delivery_status) if chat.delivery_status else None
        moved = next_text_status(status, TextEvent.WITHDRAW) if status else None
        if status != TextStatus.QUEUED or moved is None:
            continue
        chat.delivery_status = moved
        chat.delivery_reason = reason
        chat.updated_at = now
        withdrawn.append(chat)
    session.flush()
    settle_text_contacts(session, chats=withdrawn)
    return withdrawn


def withdraw_campaign_texts(
    session: Session, *, campaign_id: uuid.UUID, reason: str, now: datetime
) -> int:
    """The campaign stopped or its window closed: none of its queued texts is sent; how many
    were withdrawn."""
    chats = text_repository.queued_texts_for_update(session, campaign_id=campaign_id)
    return len(withdraw_texts(session, chats=chats, reason=reason, now=now))
