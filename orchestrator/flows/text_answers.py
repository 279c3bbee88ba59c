"""A text's create answer (or the lookup that found it) recorded, with the provider's
messages about it that arrived first: they waited, parked, for its provider ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.models import Chat
from orchestrator.texts.sending import record_accepted
from orchestrator.webhooks.session_messages import (
    apply_parked_chat_messages,
    apply_parked_session_messages,
)


def accept_text(session: Session, *, chat: Chat, answer: dict[str, Any], now: datetime) -> bool:
    """Record that the provider has ``chat`` (locked by the caller); False when it had
    moved on already."""
    accepted = record_accepted(session, chat=chat, answer=answer, now=now)
    if accepted is None:
        return False
    if accepted.learned_session is not None:
        apply_parked_session_messages(session, chat_session=accepted.learned_session)
    apply_parked_chat_messages(session, chat=chat)
    return True
