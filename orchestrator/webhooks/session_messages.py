"""A session as the provider shows it, applied to ours: its messages, status and last news."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.models import ChatSession, SessionStatus

_STATUSES = {status.value for status in SessionStatus}


def apply_session_snapshot(
    session: Session, *, chat_session: ChatSession, snapshot: dict[str, Any], now: datetime
) -> None:
    """Take the provider's whole session (a poll's answer, or a message's) over ours."""
    messages = snapshot.get("messages")
    if isinstance(messages, list):
        if len(messages) > len(chat_session.messages or []):
            chat_session.last_activity_at = now
        chat_session.messages = messages
    status = snapshot.get("status")
    if isinstance(status, str) and status in _STATUSES:
        chat_session.status = SessionStatus(status)
    chat_session.provider_synced_at = now
    chat_session.updated_at = now
