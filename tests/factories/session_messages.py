"""The provider's server messages about sessions and chats, and texts whose provider ids are
recorded (as the sender records them from the provider's answer)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.models import Chat, ChatSession
from orchestrator.orgs.service import CreatedOrg
from tests.factories.texts import queued_text

# Message times: epoch milliseconds, as the provider writes them; after any text a test run
# queues (a conversation's times are the same whenever it is delivered again).
FIRST_MESSAGE_MS = (int(time.time()) + 3600) * 1000


def sent_text(
    session: Session, *, org: CreatedOrg, number: str = "+14155550100", recorded: bool = True
) -> tuple[ChatSession, Chat]:
    """A text and its session, with the provider's ids recorded unless ``recorded`` is false."""
    chat = queued_text(session, org=org, number=number)
    conversation = session.get(ChatSession, chat.session_id)
    assert conversation is not None
    if recorded:
        conversation.provider_session_id = f"ps-{conversation.id}"
        chat.provider_chat_id = f"pc-{chat.id}"
        session.flush()
    return conversation, chat


def conversation(*said: str) -> list[dict[str, Any]]:
    """Our text, then each customer message (``>`` marks one of ours), a second apart."""
    messages = [_message("assistant", "Your appointment is tomorrow at 10.", 0)]
    for n, text in enumerate(said, start=1):
        if text.startswith(">"):
            messages.append(_message("assistant", text[1:], n))
        else:
            messages.append(_message("user", text, n))
    return messages


def _message(role: str, text: str, n: int) -> dict[str, Any]:
    key = "content" if role == "assistant" else "message"
    return {"role": role, key: text, "time": FIRST_MESSAGE_MS + n * 1000}


def session_message(
    provider_session_id: str,
    messages: list[dict[str, Any]],
    *,
    message_type: str = "session.updated",
    **session_fields: Any,
) -> dict[str, Any]:
    """A session message carrying the whole session, as the provider sends it."""
    whole = {
        "id": provider_session_id,
        "orgId": "provider-org",
        "status": "active",
        "messages": messages,
        "createdAt": "2026-06-01T12:00:00.000Z",
        "updatedAt": "2026-06-01T12:00:00.000Z",
        **session_fields,
    }
    return {"message": {"type": message_type, "timestamp": 0, "session": whole}}


def chat_message(
    provider_chat_id: str, *, message_type: str = "chat.created", **chat_fields: Any
) -> dict[str, Any]:
    whole = {
        "id": provider_chat_id,
        "orgId": "provider-org",
        "createdAt": "2026-06-01T12:00:00.000Z",
        "updatedAt": "2026-06-01T12:00:00.000Z",
        **chat_fields,
    }
    return {"message": {"type": message_type, "timestamp": 0, "chat": whole}}


def fresh(session: Session, row: ChatSession | Chat) -> None:
    """``row`` read again as the database holds it now."""
    session.execute(
        select(type(row)).where(type(row).id == row.id).execution_options(populate_existing=True)
    )
