"""What the provider tells us of a call when asked, applied as the messages it would have sent.

The provider's view goes through the webhook code path (stored and applied like any other
message), so a call recovered by asking ends exactly as it would have from its webhooks. All
run in the caller's transaction, and those settling a call re-check it under its lock: a
webhook that got there first wins.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.calls import lookup_repository, repository
from orchestrator.calls.recovery import Resolution
from orchestrator.calls.repository import PROVIDER_HELD_STATUSES
from orchestrator.calls.service import record_provider_call
from orchestrator.gate.repository import forget_attempt
from orchestrator.metrics.service import count
from orchestrator.models import CallStatus, WebhookOutcome
from orchestrator.reasons import PROVIDER_CALL_NOT_FOUND
from orchestrator.webhooks.applying import ingest_message
from orchestrator.wire import iso

# Marks the messages we made from the provider's answer, so stored events show their origin.
POLLED_SOURCE = "provider-poll"
NOT_FOUND_SOURCE = "provider-not-found"


def settle_unknown_create(
    session: Session, *, call_id: uuid.UUID, dialed_at: datetime, found: dict[str, Any] | None
) -> Resolution:
    """Record the provider's call, or (it has none) make ours dialable again."""
    call = repository.get_call_for_update(session, call_id=call_id)
    # Whatever the answer, the question is settled: a call that moved on meanwhile (a webhook
    # correlated it) is asked about again as any other, after its silence, not after a lease.
    lookup_repository.delete_lookup(session, call_id=call_id)
    if call is None or call.status != CallStatus.DIALING or call.dialed_at != dialed_at:
        return Resolution.SETTLED  # a webhook or another sweep got there first
    if found is None:
        repository.release_dialing(session, call_id=call_id)
        # Nothing reached the person: the attempt does not count against the frequency caps.
        forget_attempt(session, call_id=call_id)
        count("orchestrator_ambiguous_creates", resolution=Resolution.NOT_CREATED)
        return Resolution.NOT_CREATED
    record_provider_call(session, call_id=call_id, provider_call=found)
    apply_provider_view(session, provider_call=found)
    count("orchestrator_ambiguous_creates", resolution=Resolution.FOUND)
    return Resolution.FOUND


def apply_provider_view(
    session: Session, *, provider_call: dict[str, Any], source: str = POLLED_SOURCE
) -> bool:
    """What the provider says of a call, applied as the messages it would have sent."""
    status = provider_call.get("status")
    if not isinstance(status, str):
        return False
    messages: list[dict[str, Any]] = [
        {
            "type": "status-update",
            "status": status,
            "endedReason": provider_call.get("endedReason"),
            "call": provider_call,
            "source": source,
        }
    ]
    if status == CallStatus.ENDED:
        messages.append(
            {
                "type": "end-of-call-report",
                "endedReason": provider_call.get("endedReason"),
                "startedAt": provider_call.get("startedAt"),
                "endedAt": provider_call.get("endedAt"),
                "cost": provider_call.get("cost"),
                "analysis": provider_call.get("analysis"),
                "call": provider_call,
                "source": source,
            }
        )
    outcomes = [ingest_message(session, payload={"message": m}).outcome for m in messages]
    return WebhookOutcome.APPLIED in outcomes


def refresh_silent_call(
    session: Session, *, call_id: uuid.UUID, provider_call: dict[str, Any]
) -> bool:
    """Apply the provider's view of a silent call; True when it told us something new."""
    call = repository.get_call_for_update(session, call_id=call_id)
    if call is None:
        return False
    changed = apply_provider_view(session, provider_call=provider_call)
    if changed:
        count("orchestrator_calls_recovered", source=POLLED_SOURCE)
    return changed


def end_call_not_found(
    session: Session, *, call_id: uuid.UUID, provider_call_id: str, now: datetime
) -> bool:
    """End a call the provider no longer knows, as if it had reported it ended so.

    False when the call has meanwhile ended or moved on (a webhook got there first).
    """
    call = repository.get_call_for_update(session, call_id=call_id)
    if (
        call is None
        or call.provider_call_id != provider_call_id
        or call.status not in PROVIDER_HELD_STATUSES
    ):
        return False
    view = {
        "id": provider_call_id,
        "status": CallStatus.ENDED.value,
        "endedReason": PROVIDER_CALL_NOT_FOUND,
        "endedAt": iso(now),
    }
    ended = apply_provider_view(session, provider_call=view, source=NOT_FOUND_SOURCE)
    if ended:
        count("orchestrator_calls_provider_not_found")
    return ended
