"""Our chat rows in Vapi's ``Chat`` shape, under our ids."""

from __future__ import annotations

from typing import Any

from orchestrator.models import Chat, TextStatus
from orchestrator.texts.states import wire_status
from orchestrator.wire import iso


def _delivery(chat: Chat) -> dict[str, Any] | None:
    """Ours: where a text stands; a plain chat has no delivery."""
    if chat.delivery_status is None:
        return None
    delivery: dict[str, Any] = {"status": wire_status(TextStatus(chat.delivery_status))}
    if chat.delivery_reason is not None:
        delivery["reason"] = chat.delivery_reason
    return delivery


def chat_to_wire(chat: Chat) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(chat.id),
        "orgId": str(chat.org_id),
        "assistantId": chat.assistant_id,
        "assistant": chat.assistant,
        "assistantOverrides": chat.assistant_overrides,
        "squadId": chat.squad_id,
        "squad": chat.squad,
        "name": chat.name,
        "sessionId": str(chat.session_id) if chat.session_id else None,
        "input": chat.input,
        "previousChatId": str(chat.previous_chat_id) if chat.previous_chat_id else None,
        "messages": list(chat.messages or []),
        "output": list(chat.output or []),
        "createdAt": iso(chat.created_at),
        "updatedAt": iso(chat.updated_at),
        "costs": chat.costs,
        "cost": chat.cost,
        "delivery": _delivery(chat),
    }
    return {key: value for key, value in body.items() if value is not None}
