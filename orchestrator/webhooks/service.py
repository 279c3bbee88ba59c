"""Applying provider messages: store first, then move the call forward (never backwards)."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.service import CallEnding, move_call
from orchestrator.calls.states import is_in_flight
from orchestrator.exceptions import Unauthorized
from orchestrator.models import Call, CallStatus, WebhookEvent
from orchestrator.models.base import utcnow
from orchestrator.webhooks import repository

REPORTED_STATUSES = {status.value: status for status in CallStatus}


def verify_shared_secret(presented: str | None, expected: str) -> None:
    if presented is None or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Unauthorized("Invalid webhook secret")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _find_call(session: Session, call_obj: dict[str, Any]) -> Call | None:
    """By the provider's id, or, when the webhook beat the create response, by our metadata."""
    provider_call_id = call_obj.get("id")
    if isinstance(provider_call_id, str):
        call = calls_repo.find_by_provider_id_for_update(session, provider_call_id=provider_call_id)
        if call is not None:
            return call
    metadata = (call_obj.get("assistantOverrides") or {}).get("metadata") or {}
    try:
        our_id = uuid.UUID(str(metadata.get("orchestratorCallId")))
    except ValueError:
        return None
    call = calls_repo.get_call_for_update(session, call_id=our_id)
    if call is not None and call.provider_call_id is None and isinstance(provider_call_id, str):
        call.provider_call_id = provider_call_id
    return call


def _ending(message: dict[str, Any], call_obj: dict[str, Any]) -> CallEnding:
    return CallEnding(
        ended_reason=message.get("endedReason") or call_obj.get("endedReason"),
        started_at=_parse_time(message.get("startedAt") or call_obj.get("startedAt")),
        ended_at=_parse_time(message.get("endedAt") or call_obj.get("endedAt")),
    )


def _apply_status_update(session: Session, call: Call, message: dict[str, Any]) -> bool:
    reported = REPORTED_STATUSES.get(str(message.get("status")))
    if reported is None or reported in (CallStatus.CLAIMED, CallStatus.DIALING, CallStatus.FAILED):
        return False
    call_obj = message.get("call") or {}
    if reported == CallStatus.IN_PROGRESS and call.started_at is None:
        call.started_at = _parse_time(call_obj.get("startedAt")) or utcnow()
    ending = _ending(message, call_obj) if reported == CallStatus.ENDED else None
    return move_call(session, call, reported, ending=ending)


def _apply_report(session: Session, call: Call, message: dict[str, Any]) -> bool:
    """The report ends the call if the ``ended`` status-update has not, and adds its details."""
    call_obj = message.get("call") or {}
    ending = _ending(message, call_obj)
    moved = move_call(session, call, CallStatus.ENDED, ending=ending)
    call.started_at = call.started_at or ending.started_at
    call.ended_at = call.ended_at or ending.ended_at
    cost = message.get("cost")
    if isinstance(cost, int | float):
        call.cost = float(cost)
    analysis = message.get("analysis")
    if isinstance(analysis, dict):
        call.analysis = analysis
        summary = analysis.get("summary")
        call.summary = summary if isinstance(summary, str) else call.summary
    return moved or cost is not None or analysis is not None


@dataclass(frozen=True)
class IngestResult:
    event: WebhookEvent
    # Set when the message ended a call: the org's capacity it held can be reused at once.
    freed_org_id: uuid.UUID | None = None


def ingest_message(session: Session, *, payload: dict[str, Any]) -> IngestResult:
    """Store one provider message and apply it in the same transaction."""
    message = payload.get("message") if isinstance(payload.get("message"), dict) else payload
    assert isinstance(message, dict)
    call_obj = message.get("call") if isinstance(message.get("call"), dict) else {}
    assert isinstance(call_obj, dict)
    message_type = str(message.get("type") or "unknown")[:80]
    event = repository.add_event(
        session,
        message_type=message_type,
        provider_call_id=call_obj.get("id") if isinstance(call_obj.get("id"), str) else None,
        status=str(message["status"])[:40] if message.get("status") else None,
        ended_reason=message.get("endedReason"),
        payload=payload,
    )
    if message_type not in ("status-update", "end-of-call-report"):
        event.outcome = "ignored"
        return IngestResult(event)
    call = _find_call(session, call_obj)
    if call is None:
        event.outcome = "unknown-call"
        return IngestResult(event)
    event.call_id = call.id
    event.org_id = call.org_id
    held_capacity = is_in_flight(call.status)
    if message_type == "status-update":
        changed = _apply_status_update(session, call, message)
    else:
        changed = _apply_report(session, call, message)
    event.outcome = "applied" if changed else "duplicate"
    event.applied_at = utcnow()
    session.flush()
    freed = held_capacity and not is_in_flight(call.status)
    return IngestResult(event, call.org_id if freed else None)
