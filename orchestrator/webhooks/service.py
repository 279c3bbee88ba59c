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
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import anyio.to_thread
import orjson
import psycopg
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.service import CallBatch, CallEnding, move_call
from orchestrator.calls.states import is_in_flight
from orchestrator.clock import utcnow
from orchestrator.contacts import repository as contacts_repo
from orchestrator.metrics.service import count
from orchestrator.models import Call, CallStatus, WebhookOutcome
from orchestrator.webhooks import repository
from orchestrator.webhooks.repository import (
    PENDING,
    EventOutcome,
    NewEvent,
    StoredEvent,
)

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


def _apply_status_update(
    session: Session, call: Call, message: dict[str, Any], batch: CallBatch
) -> bool:
    reported = REPORTED_STATUSES.get(str(message.get("status")))
    if reported is None or reported not in PROVIDER_STATUSES:
        return False
    call_obj = message.get("call") or {}
    ending = _ending(message, call_obj)
    before = (call.started_at, call.ended_at)
    moved = move_call(
        session,
        call,
        reported,
        ending=ending if reported == CallStatus.ENDED else None,
        batch=batch,
    )
    _merge_times(call, ending)
    return moved or before != (call.started_at, call.ended_at)


def _apply_report(session: Session, call: Call, message: dict[str, Any], batch: CallBatch) -> bool:
    """The report ends the call if the ``ended`` status-update has not, and adds its details."""
    call_obj = message.get("call") or {}
    ending = _ending(message, call_obj)
    moved = move_call(session, call, CallStatus.ENDED, ending=ending, batch=batch)
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
    try:
        canonical = orjson.dumps(message, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:  # an integer wider than 64 bits: the standard library takes any
        text = json.dumps(message, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        canonical = text.encode()
    return hashlib.sha256(canonical).hexdigest()


def _unwrap(payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    message = payload.get("message") if isinstance(payload.get("message"), dict) else payload
    assert isinstance(message, dict)
    call_obj = message.get("call") if isinstance(message.get("call"), dict) else {}
    assert isinstance(call_obj, dict)
    return message, call_obj


def _short(value: Any, limit: int) -> str | None:
    return value if isinstance(value, str) and len(value) <= limit else None


def new_event(payload: dict[str, Any], *, raw: str | None = None) -> NewEvent:
    """How a message is stored: an applied type waits to be applied, any other is ignored."""
    message, call_obj = _unwrap(payload)
    message_type = str(message.get("type") or "unknown")[:80]
    status = message.get("status")
    return NewEvent(
        message_type=message_type,
        # Longer than the column: not an id of ours to correlate with.
        provider_call_id=_short(call_obj.get("id"), 200),
        status=str(status)[:40] if status else None,
        ended_reason=_short(message.get("endedReason"), 200),
        dedupe_key=dedupe_key(message),
        outcome=PENDING if message_type in APPLIED_TYPES else WebhookOutcome.IGNORED,
        payload=payload,
        raw_payload=raw,
    )


def _counted_type(message_type: str) -> str:
    return message_type if message_type in APPLIED_TYPES else "other"


def _stored_ids(
    events: Sequence[NewEvent], stored: dict[str, int]
) -> tuple[list[int | None], Counter[tuple[str, WebhookOutcome]]]:
    """Per message its event id or None (a duplicate), and the tally of what was not applied."""
    stored = dict(stored)
    ids: list[int | None] = []
    tally: Counter[tuple[str, WebhookOutcome]] = Counter()
    for event in events:
        # A key stored by this batch belongs to its first message; a repeat is a duplicate.
        event_id = stored.pop(event.dedupe_key, None)
        ids.append(event_id)
        if event_id is None:
            tally[_counted_type(event.message_type), WebhookOutcome.DUPLICATE] += 1
        elif event.outcome == WebhookOutcome.IGNORED:
            tally[_counted_type(event.message_type), WebhookOutcome.IGNORED] += 1
    return ids, tally


def store_events(session: Session, events: Sequence[NewEvent]) -> list[int | None]:
    """Store a batch of messages once each: per message its event id, or None (a duplicate).

    Applied types are left pending for ``apply_pending_events``; others are stored ignored.
    """
    ids, tally = _stored_ids(events, repository.store_events(session, events))
    _count_events(tally)
    return ids


async def store_events_async(
    connection: psycopg.AsyncConnection[Any], events: Sequence[NewEvent]
) -> list[int | None]:
    """``store_events`` on an asyncio connection; the event loop never waits on the metrics."""
    stored = await repository.store_events_async(connection, events)
    ids, tally = _stored_ids(events, stored)
    if tally:
        await anyio.to_thread.run_sync(_count_events, tally)
    return ids


def _count_events(tally: Counter[tuple[str, WebhookOutcome]]) -> None:
    for (message_type, outcome), amount in tally.items():
        count("orchestrator_webhook_events", amount, type=message_type, outcome=outcome)


@dataclass(frozen=True)
class AppliedEvents:
    """What applying a batch of stored events did."""

    # Per event id: applied, no-change, parked or unknown-call.
    outcomes: dict[int, WebhookOutcome] = field(default_factory=dict)
    # Orgs whose calls ended here while holding capacity, which can be reused at once.
    freed_org_ids: frozenset[uuid.UUID] = frozenset()
    # Pending events claimed (a full batch means more may be waiting).
    claimed: int = 0


def _metadata_call_id(call_obj: dict[str, Any]) -> uuid.UUID | None:
    metadata = (call_obj.get("assistantOverrides") or {}).get("metadata") or {}
    try:
        return uuid.UUID(str(metadata.get("orchestratorCallId")))
    except ValueError:
        return None


def _may_end_call(event: StoredEvent) -> bool:
    message, _ = _unwrap(event.payload)
    return event.message_type == "end-of-call-report" or message.get("status") == "ended"


class _BatchApplication:
    """One transaction applying many stored events: every row it needs is locked up front
    (calls, then parked events, then contacts, each in id order), and the campaign writes
    are made once at the end."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.batch = CallBatch()
        self.by_provider_id: dict[str, Call] = {}
        self.by_id: dict[uuid.UUID, Call] = {}
        self.parked: dict[str, list[StoredEvent]] = {}
        self.outcomes: list[EventOutcome] = []
        self.freed: set[uuid.UUID] = set()
        self.tally: Counter[tuple[str, WebhookOutcome]] = Counter()
        self.correlated = 0

    def lock_rows(self, events: Sequence[StoredEvent]) -> None:
        provider_ids = {e.provider_call_id for e in events if e.provider_call_id}
        self.add_calls(
            calls_repo.lock_calls_by_ids(self.session, provider_call_ids=provider_ids, call_ids=())
        )
        # Calls not found by the provider's id: the webhook beat the create answer (rare).
        unmatched = [e for e in events if e.provider_call_id not in self.by_provider_id]
        our_ids = {_metadata_call_id(_unwrap(e.payload)[1]) for e in unmatched} - {None}
        if our_ids:
            ids = cast(set[uuid.UUID], our_ids)
            self.add_calls(
                calls_repo.lock_calls_by_ids(self.session, provider_call_ids=(), call_ids=ids)
            )
        for parked in repository.parked_events_for_update(
            self.session, provider_call_ids=provider_ids
        ):
            assert parked.provider_call_id is not None
            self.parked.setdefault(parked.provider_call_id, []).append(parked)
        self.lock_contacts_of(events)

    def add_calls(self, calls: Sequence[Call]) -> None:
        for call in calls:
            self.by_id[call.id] = call
            if call.provider_call_id is not None:
                self.by_provider_id[call.provider_call_id] = call

    def lock_contacts_of(self, events: Sequence[StoredEvent]) -> None:
        """The contacts of calls these events may end (a call's end settles its contact)."""
        ending = [e for e in events if _may_end_call(e)]
        ending += [
            p for e in ending if e.provider_call_id for p in self.parked.get(e.provider_call_id, [])
        ]
        calls = {self._call_for(e, correlate=False) for e in ending} - {None}
        self.batch.lock_contacts(
            self.session,
            contact_ids={c.contact_id for c in calls if c is not None and c.contact_id},
        )

    def _call_for(self, event: StoredEvent, *, correlate: bool = True) -> Call | None:
        """By the provider's id, or, when the webhook beat the create response, by our metadata."""
        if event.provider_call_id is not None:
            call = self.by_provider_id.get(event.provider_call_id)
            if call is not None:
                return call
        our_id = _metadata_call_id(_unwrap(event.payload)[1])
        call = self.by_id.get(our_id) if our_id is not None else None
        correlated = call is not None and call.provider_call_id is None
        if correlate and correlated and event.provider_call_id is not None:
            assert call is not None
            call.provider_call_id = event.provider_call_id
            self.by_provider_id[event.provider_call_id] = call
            self.correlated += 1
        return call

    def apply(self, event: StoredEvent) -> None:
        call = self._call_for(event)
        if call is None:
            outcome = (
                WebhookOutcome.PARKED if event.provider_call_id else WebhookOutcome.UNKNOWN_CALL
            )
            self._record(EventOutcome(event.id, outcome), event.message_type)
            return
        self.apply_parked(call)
        self.apply_to_call(event, call)

    def apply_parked(self, call: Call) -> None:
        """Messages that arrived before we knew the call's provider id, applied first."""
        if call.provider_call_id is not None:
            for parked in self.parked.pop(call.provider_call_id, []):
                self.apply_to_call(parked, call)

    def apply_to_call(self, event: StoredEvent, call: Call) -> None:
        message, _ = _unwrap(event.payload)
        held_capacity = is_in_flight(call.status)
        if event.message_type == "status-update":
            changed = _apply_status_update(self.session, call, message, self.batch)
        else:
            changed = _apply_report(self.session, call, message, self.batch)
        if held_capacity and not is_in_flight(call.status):
            self.freed.add(call.org_id)
        outcome = WebhookOutcome.APPLIED if changed else WebhookOutcome.NO_CHANGE
        self._record(EventOutcome(event.id, outcome, call.id, call.org_id), event.message_type)

    def _record(self, outcome: EventOutcome, message_type: str) -> None:
        self.outcomes.append(outcome)
        self.tally[_counted_type(message_type), outcome.outcome] += 1

    def finish(self, *, claimed: int = 0) -> AppliedEvents:
        now = utcnow()
        # Hundreds of calls and contacts: one statement each, not one per row.
        changed_calls = [call for call in self.by_id.values() if inspect(call).modified]
        calls_repo.write_call_states(self.session, changed_calls, now=now)
        contacts = self.batch.locked_contacts.values()
        changed_contacts = [contact for contact in contacts if inspect(contact).modified]
        contacts_repo.write_contact_outcomes(self.session, changed_contacts, now=now)
        self.session.flush()
        self.batch.write(self.session)
        repository.record_outcomes(self.session, self.outcomes, now=now)
        _count_events(self.tally)
        if self.correlated:
            count("orchestrator_calls_correlated", self.correlated)
        outcomes = {o.event_id: o.outcome for o in self.outcomes}
        return AppliedEvents(outcomes, frozenset(self.freed), claimed)


# Events applied in one transaction at most: large enough that a backlog is worked off in
# few transactions (a call's messages fold into one update, each query serves hundreds of
# calls), small enough to hold its locks only briefly (a few hundred milliseconds at most).
APPLY_BATCH = 2000


def apply_pending_events(
    session: Session, *, limit: int = APPLY_BATCH, event_ids: Sequence[int] | None = None
) -> AppliedEvents:
    """Apply stored events not applied yet (only ``event_ids`` if given), oldest first."""
    events = repository.claim_pending_events(session, limit=limit, event_ids=event_ids)
    if not events:
        return AppliedEvents()
    application = _BatchApplication(session)
    application.lock_rows(events)
    for event in events:
        application.apply(event)
    return application.finish(claimed=len(events))


def apply_parked_events(session: Session, *, call: Call) -> bool:
    """Messages that arrived before we knew ``call``'s provider id (it is locked by the caller),
    applied now it is known. True when one of them ended the call while it held capacity."""
    if call.provider_call_id is None:
        return False
    parked = repository.parked_events_for_update(session, provider_call_ids=[call.provider_call_id])
    if not parked:
        return False
    application = _BatchApplication(session)
    application.add_calls([call])
    application.parked[call.provider_call_id] = parked
    application.lock_contacts_of(parked)
    application.apply_parked(call)
    return bool(application.finish().freed_org_ids)


def mark_failed(session: Session, *, event_id: int) -> None:
    """A message whose application raised: it stops waiting, and is counted."""
    failed = WebhookOutcome.FAILED
    repository.record_outcomes(session, [EventOutcome(event_id, failed)], now=utcnow())
    count("orchestrator_webhook_events", type="other", outcome=failed)


@dataclass(frozen=True)
class IngestResult:
    # What storing and applying the message did: applied, duplicate, parked, ignored...
    outcome: WebhookOutcome
    # The stored event's id; None for a duplicate, which is not stored again.
    event_id: int | None = None
    # Set when the message ended a call: the org's capacity it held can be reused at once.
    freed_org_id: uuid.UUID | None = None


def ingest_message(session: Session, *, payload: dict[str, Any]) -> IngestResult:
    """Store one message once and apply it at once, in the caller's transaction."""
    event = new_event(payload)
    (event_id,) = store_events(session, [event])
    if event_id is None:
        return IngestResult(WebhookOutcome.DUPLICATE)
    if event.outcome == WebhookOutcome.IGNORED:
        return IngestResult(WebhookOutcome.IGNORED, event_id)
    applied = apply_pending_events(session, event_ids=[event_id])
    freed = next(iter(applied.freed_org_ids), None)
    return IngestResult(applied.outcomes[event_id], event_id, freed)
