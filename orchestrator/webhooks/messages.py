"""The provider's messages read: what each is, its dedupe key, and what it reports of a call.

A message has no id of its own: the same message delivered twice is known by its content
(``dedupe_key``). Status updates and end-of-call reports are applied to calls, session and
chat messages to our sessions and chats (``session_messages``); any other message is stored
and ignored. Each is stored with the provider's id of what it is about in
``provider_call_id``: the call's, the session's or the chat's.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from orchestrator.calls.provider_reports import PROVIDER_STATUSES, EndOfCallReport, StatusReport
from orchestrator.calls.service import CallEnding
from orchestrator.models import CallStatus, WebhookOutcome
from orchestrator.webhooks.repository import PENDING, NewEvent, StoredEvent

REPORTED_STATUSES = {status.value: status for status in CallStatus}
CALL_TYPES = ("status-update", "end-of-call-report")
SESSION_TYPES = ("session.created", "session.updated", "session.deleted")
CHAT_TYPES = ("chat.created", "chat.deleted")
TEXT_TYPES = SESSION_TYPES + CHAT_TYPES
APPLIED_TYPES = CALL_TYPES + TEXT_TYPES


def dedupe_key(message: dict[str, Any]) -> str:
    """The same message delivered twice has the same key (there is no event id to use)."""
    try:
        canonical = orjson.dumps(message, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:  # an integer wider than 64 bits: the standard library takes any
        text = json.dumps(message, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        canonical = text.encode()
    return hashlib.sha256(canonical).hexdigest()


def unwrap(payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The message (Vapi wraps it in ``message``) and the call object it carries."""
    message = payload.get("message") if isinstance(payload.get("message"), dict) else payload
    assert isinstance(message, dict)
    call_obj = message.get("call") if isinstance(message.get("call"), dict) else {}
    assert isinstance(call_obj, dict)
    return message, call_obj


def _short(value: Any, limit: int) -> str | None:
    return value if isinstance(value, str) and len(value) <= limit else None


def message_object(message: dict[str, Any], key: str) -> dict[str, Any]:
    """The object a message carries under ``key`` (``session``, ``chat``), or an empty one."""
    found = message.get(key)
    return found if isinstance(found, dict) else {}


def subject_id(message_type: str, message: dict[str, Any], call_obj: dict[str, Any]) -> Any:
    """The provider's id of what the message is about: its session, its chat, else its call."""
    if message_type in SESSION_TYPES:
        return message_object(message, "session").get("id")
    if message_type in CHAT_TYPES:
        return message_object(message, "chat").get("id")
    return call_obj.get("id")


def new_event(payload: dict[str, Any], *, raw: str | None = None) -> NewEvent:
    """How a message is stored: an applied type waits to be applied, any other is ignored."""
    message, call_obj = unwrap(payload)
    message_type = str(message.get("type") or "unknown")[:80]
    status = message.get("status")
    return NewEvent(
        message_type=message_type,
        # Longer than the column: not an id of ours to correlate with.
        provider_call_id=_short(subject_id(message_type, message, call_obj), 200),
        status=str(status)[:40] if status else None,
        ended_reason=_short(message.get("endedReason"), 200),
        dedupe_key=dedupe_key(message),
        outcome=PENDING if message_type in APPLIED_TYPES else WebhookOutcome.IGNORED,
        payload=payload,
        raw_payload=raw,
    )


def counted_type(message_type: str) -> str:
    """The type a message is counted under: an applied type, or ``other``."""
    return message_type if message_type in APPLIED_TYPES else "other"


def metadata_call_id(event: StoredEvent) -> uuid.UUID | None:
    """Our call id, which we send with each call: found when the webhook beat the create answer."""
    metadata = (unwrap(event.payload)[1].get("assistantOverrides") or {}).get("metadata") or {}
    try:
        return uuid.UUID(str(metadata.get("orchestratorCallId")))
    except ValueError:
        return None


def may_end_call(event: StoredEvent) -> bool:
    message, _ = unwrap(event.payload)
    return event.message_type == "end-of-call-report" or message.get("status") == "ended"


def call_report(event: StoredEvent) -> StatusReport | EndOfCallReport | None:
    """What a stored status update or end-of-call report says of its call.

    None for a status update whose status is not one a provider reports: it changes nothing.
    """
    message, _ = unwrap(event.payload)
    if event.message_type == "status-update":
        status = REPORTED_STATUSES.get(str(message.get("status")))
        if status is None or status not in PROVIDER_STATUSES:
            return None
        return StatusReport(status=status, ending=_ending(message))
    cost, analysis = message.get("cost"), message.get("analysis")
    return EndOfCallReport(
        ending=_ending(message),
        cost=float(cost) if isinstance(cost, int | float) else None,
        analysis=analysis if isinstance(analysis, dict) else None,
        has_details=cost is not None or analysis is not None,
    )


def _ending(message: dict[str, Any]) -> CallEnding:
    call_obj = message.get("call") or {}
    return CallEnding(
        ended_reason=message.get("endedReason") or call_obj.get("endedReason"),
        started_at=_parse_time(message.get("startedAt") or call_obj.get("startedAt")),
        ended_at=_parse_time(message.get("endedAt") or call_obj.get("endedAt")),
        stamp_now=False,
    )


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
