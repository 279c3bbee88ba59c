"""Applying provider messages: stored once, applied in any order to the same end state.

A message delivered twice is stored once (its dedupe key is derived from its content) and
changes nothing the second time. Status only moves forward and terminal states are sticky;
the ``ended`` status-update and the end-of-call report merge (whichever comes first ends the
call, the report adds its details); the start time is the earliest reported, the end time the
latest. A message for a call we cannot find yet is parked and applied once the call's
provider id is recorded.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.service import CallEnding, move_call
from orchestrator.calls.states import is_in_flight
from orchestrator.metrics.service import count
from orchestrator.models import Call, CallStatus, WebhookEvent
from orchestrator.models.base import utcnow
from orchestrator.webhooks import repository

REPORTED_STATUSES = {status.value: status for status in CallStatus}
# The statuses a provider reports; ours (scheduled, claimed, dialing, failed) never come from it.
PROVIDER_STATUSES = frozenset(
    {
        CallStatus.QUEUED,
        CallStatus.RINGING,
        CallStatus.IN_PROGRESS,
        CallStatus.FORWARDING,
        CallStatus.ENDED,
    }
)
APPLIED_TYPES = ("status-update", "end-of-call-report")


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
        count("orchestrator_calls_correlated")
    return call


def _ending(message: dict[str, Any], call_obj: dict[str, Any]) -> CallEnding:
    return CallEnding(
        ended_reason=message.get("endedReason") or call_obj.get("endedReason"),
        started_at=_parse_time(message.get("startedAt") or call_obj.get("startedAt")),
        ended_at=_parse_time(message.get("endedAt") or call_obj.get("endedAt")),
        stamp_now=False,
    )


def _merge_times(call: Call, ending: CallEnding) -> None:
    """The earliest reported start and the latest reported end: the same in any order."""
    if ending.started_at and (call.started_at is None or ending.started_at < call.started_at):
        call.started_at = ending.started_at
    if ending.ended_at and (call.ended_at is None or ending.ended_at > call.ended_at):
        call.ended_at = ending.ended_at


def _apply_status_update(session: Session, call: Call, message: dict[str, Any]) -> bool:
    reported = REPORTED_STATUSES.get(str(message.get("status")))
    if reported is None or reported not in PROVIDER_STATUSES:
        return False
    call_obj = message.get("call") or {}
    ending = _ending(message, call_obj)
    before = (call.started_at, call.ended_at)
    moved = move_call(
        session, call, reported, ending=ending if reported == CallStatus.ENDED else None
    )
    _merge_times(call, ending)
    return moved or before != (call.started_at, call.ended_at)


def _apply_report(session: Session, call: Call, message: dict[str, Any]) -> bool:
    """The report ends the call if the ``ended`` status-update has not, and adds its details."""
    call_obj = message.get("call") or {}
    ending = _ending(message, call_obj)
    moved = move_call(session, call, CallStatus.ENDED, ending=ending)
    _merge_times(call, ending)
    cost = message.get("cost")
    if isinstance(cost, int | float):
        call.cost = float(cost)
    analysis = message.get("analysis")
    if isinstance(analysis, dict):
        call.analysis = analysis
        summary = analysis.get("summary")
        call.summary = summary if isinstance(summary, str) else call.summary
    return moved or cost is not None or analysis is not None


def dedupe_key(message: dict[str, Any]) -> str:
    """The same message delivered twice has the same key (there is no event id to use)."""
    canonical = json.dumps(message, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class IngestResult:
    # What storing and applying the message did: applied, duplicate, parked, ignored...
    outcome: str
    # The stored event; None for a duplicate, which is not stored again.
    event: WebhookEvent | None = None
    # Set when the message ended a call: the org's capacity it held can be reused at once.
    freed_org_id: uuid.UUID | None = None


def _unwrap(payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    message = payload.get("message") if isinstance(payload.get("message"), dict) else payload
    assert isinstance(message, dict)
    call_obj = message.get("call") if isinstance(message.get("call"), dict) else {}
    assert isinstance(call_obj, dict)
    return message, call_obj


def ingest_message(session: Session, *, payload: dict[str, Any]) -> IngestResult:
    """Store one provider message once, and apply it in the same transaction."""
    message, call_obj = _unwrap(payload)
    message_type = str(message.get("type") or "unknown")[:80]
    provider_call_id = call_obj.get("id") if isinstance(call_obj.get("id"), str) else None
    event = repository.add_event_once(
        session,
        message_type=message_type,
        provider_call_id=provider_call_id,
        status=str(message["status"])[:40] if message.get("status") else None,
        ended_reason=message.get("endedReason"),
        dedupe_key=dedupe_key(message),
        payload=payload,
    )
    if event is None:
        return _counted(IngestResult("duplicate"), message_type)
    if message_type not in APPLIED_TYPES:
        event.outcome = "ignored"
        return _counted(IngestResult("ignored", event), message_type)
    call = _find_call(session, call_obj)
    if call is None:
        event.outcome = "parked" if provider_call_id else "unknown-call"
        return _counted(IngestResult(event.outcome, event), message_type)
    freed = apply_parked_events(session, call=call)
    freed = _apply_event(session, event, call, message) or freed
    return _counted(
        IngestResult(event.outcome or "", event, call.org_id if freed else None), message_type
    )


def _apply_event(
    session: Session, event: WebhookEvent, call: Call, message: dict[str, Any]
) -> bool:
    """Apply one stored message to its call; True when it ended a call that held capacity."""
    held_capacity = is_in_flight(call.status)
    if event.message_type == "status-update":
        changed = _apply_status_update(session, call, message)
    else:
        changed = _apply_report(session, call, message)
    event.call_id = call.id
    event.org_id = call.org_id
    event.outcome = "applied" if changed else "no-change"
    event.applied_at = utcnow()
    session.flush()
    return held_capacity and not is_in_flight(call.status)


def apply_parked_events(session: Session, *, call: Call) -> bool:
    """Messages that arrived before we knew the call's provider id, applied now it is known.

    True when one of them ended the call while it held capacity.
    """
    if call.provider_call_id is None:
        return False
    freed = False
    for event in repository.parked_events_for_update(
        session, provider_call_id=call.provider_call_id
    ):
        message, _ = _unwrap(event.payload)
        freed = _apply_event(session, event, call, message) or freed
    return freed


def _counted(result: IngestResult, message_type: str) -> IngestResult:
    known = message_type if message_type in APPLIED_TYPES else "other"
    count("orchestrator_webhook_events", type=known, outcome=result.outcome)
    return result
