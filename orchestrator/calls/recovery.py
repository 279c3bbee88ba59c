"""Learning from the provider what its webhooks did not tell us.

Three cases, all found by a periodic sweep (``recovery_runner``) and all applied through the
webhook code path (the provider's view becomes the messages it would have sent, stored and
applied like any other):

* A create whose answer never came (timeout, 5xx, a worker that died mid-send) leaves the call
  ``dialing``. Once no create request can still be under way, the provider's calls for that
  caller number and time are listed: the call is recorded if the provider has it, and dialed again
  only if it does not. Nobody is dialed twice because of a lost answer.
* A call the provider has but that has gone silent for too long (its webhooks lost) is looked
  up with ``GET /call/{id}``.
* A call the provider no longer knows (404 twice, a minute apart: deleted there, or an API key
  moved to another account) ends with our ``provider-call-not-found`` and frees its capacity.

HTTP happens outside any transaction; the database work re-checks the call under its lock.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.calls import lookup_repository, repository
from orchestrator.calls.repository import PROVIDER_HELD_STATUSES
from orchestrator.calls.service import record_provider_call
from orchestrator.metrics.service import count
from orchestrator.models import CallStatus, WebhookOutcome
from orchestrator.providers.vapi import ProviderCall, VapiClient
from orchestrator.reasons import PROVIDER_CALL_NOT_FOUND
from orchestrator.webhooks.applying import ingest_message
from orchestrator.wire import iso

# The provider's clock may differ from ours: look this far either side of our dial time.
CLOCK_MARGIN = timedelta(seconds=60)
LIST_PAGE = 1000
# Marks the messages we made from the provider's answer, so stored events show their origin.
POLLED_SOURCE = "provider-poll"
NOT_FOUND_SOURCE = "provider-not-found"


class Resolution(StrEnum):
    FOUND = "found"
    NOT_CREATED = "not-created"
    SETTLED = "settled"


def find_created_call(
    client: VapiClient,
    *,
    call_id: uuid.UUID,
    phone_number_id: str | None,
    dialed_at: datetime,
    latest_send: timedelta,
) -> dict[str, Any] | None:
    """The provider's call carrying our id in its metadata, among its caller number's calls then."""
    start, end = dialed_at - CLOCK_MARGIN, dialed_at + latest_send + CLOCK_MARGIN
    seen: set[str] = set()
    while True:
        page = client.list_calls(
            phone_number_id=phone_number_id,
            created_at_gt=start,
            created_at_lt=end,
            limit=LIST_PAGE,
        )
        for call in page:
            if _our_call_id(call) == str(call_id):
                return call.model_dump(mode="json", by_alias=True)
        fresh = [call for call in page if call.id not in seen]
        seen.update(call.id for call in page)
        oldest = min((c.created_at for c in page if c.created_at), default=None)
        if len(page) < LIST_PAGE or not fresh or oldest is None:
            return None
        # Newest first: the next page ends where this one did (ties at one instant overlap).
        end = oldest + timedelta(milliseconds=1)


def _our_call_id(call: ProviderCall) -> str | None:
    metadata = (call.assistant_overrides or {}).get("metadata") or {}
    value = metadata.get("orchestratorCallId")
    return str(value) if value is not None else None


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


def note_api_start(session: Session, *, now: datetime) -> int:
    """Webhooks sent while no API process listened are lost: every call the provider has is
    asked about at the next sweep. Returns how many."""
    return lookup_repository.make_provider_held_calls_due(session, now=now)
