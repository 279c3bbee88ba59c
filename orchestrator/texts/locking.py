"""Sessions and chats found by the provider's ids, locked to apply the provider's news."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.models import Chat, ChatSession


def lock_sessions(session: Session, *, provider_session_ids: Collection[str]) -> list[ChatSession]:
    """Our sessions of these provider ids, locked in id order (as they are now in the table)."""
    if not provider_session_ids:
        return []
    stmt = (
        select(ChatSession)
        .where(ChatSession.provider_session_id.in_(sorted(provider_session_ids)))
        .order_by(ChatSession.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def lock_chats(session: Session, *, provider_chat_ids: Collection[str]) -> list[Chat]:
    """Our chats of these provider ids, locked in id order (as they are now in the table)."""
    if not provider_chat_ids:
        return []
    stmt = (
        select(Chat)
        .where(Chat.provider_chat_id.in_(sorted(provider_chat_ids)))
        .order_by(Chat.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))
