"""Stored provider messages applied to their calls, in the caller's transaction.

Applied in any order, the messages of a call reach the same end state, and a message changes
its call once (``calls.provider_reports``). A message for a call we cannot find yet is parked
and applied once the call's provider id is recorded. Session and chat messages go to their
sessions and chats (``session_messages``), in the same transaction. Many messages are applied
together: every row they need is locked up front and the campaign writes are made once, at
the end.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.provider_reports import (
    StatusReport,
    apply_end_of_call_report,
    apply_status_report,
)
from orchestrator.calls.service import CallBatch
from orchestrator.calls.states import is_in_flight
from orchestrator.clock import utcnow
from orchestrator.contacts import repository as contacts_repo
from orchestrator.decisions.recording import dial_decisions
from orchestrator.events.text_events import record_text_events
from orchestrator.metrics.service import count
from orchestrator.models import Call, WebhookOutcome
from orchestrator.suppression.opt_outs import EndedCall, record_opt_outs
from orchestrator.suppression.text_opt_outs import settle, withdraw_opt_outs
from orchestrator.webhooks import repository
from orchestrator.webhooks.messages import (
    CALL_TYPES,
    TEXT_TYPES,
    call_report,
    counted_type,
    may_end_call,
    metadata_call_id,
    new_event,
)
from orchestrator.webhooks.repository import EventOutcome, StoredEvent
from orchestrator.webhooks.session_messages import TextBatch
from orchestrator.webhooks.storing import count_events, observe_apply_lag, store_events

# Events applied in one transaction at most: large enough that a backlog is worked off in
# few transactions (a call's messages fold into one update, each query serves hundreds of
# calls), small enough to hold its locks only briefly (a few hundred milliseconds at most).
APPLY_BATCH = 2000


@dataclass(frozen=True)
class AppliedEvents:
    """What applying a batch of stored events did."""

    # Per event id: applied, no-change, parked or unknown-call.
    outcomes: dict[int, WebhookOutcome] = field(default_factory=dict)
    # Orgs whose calls ended here while holding capacity, which can be reused at once.
    freed_org_ids: frozenset[uuid.UUID] = frozenset()
    # Pending events claimed (a full batch means more may be waiting).
    claimed: int = 0
    # Sessions whose customer's first reply (``sessions.replied_at``) was applied here.
    replied_session_ids: frozenset[uuid.UUID] = frozenset()


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
        # Calls whose end-of-call report was applied: an opt-out heard on one is recorded.
        self.ended: list[EndedCall] = []
        self.texts = TextBatch(session, now=utcnow())

    def lock_rows(self, events: Sequence[StoredEvent]) -> None:
        self.lock_call_rows([e for e in events if e.message_type not in TEXT_TYPES])
        self.texts.lock_rows([e for e in events if e.message_type in TEXT_TYPES])

    def lock_call_rows(self, events: Sequence[StoredEvent]) -> None:
        provider_ids = {e.provider_call_id for e in events if e.provider_call_id}
        self.add_calls(
            calls_repo.lock_calls_by_ids(self.session, provider_call_ids=provider_ids, call_ids=())
        )
        # Calls not found by the provider's id: the webhook beat the create answer (rare).
        unmatched = [e for e in events if e.provider_call_id not in self.by_provider_id]
        our_ids = {metadata_call_id(e) for e in unmatched} - {None}
        if our_ids:
            ids = cast(set[uuid.UUID], our_ids)
            self.add_calls(
                calls_repo.lock_calls_by_ids(self.session, provider_call_ids=(), call_ids=ids)
            )
        for parked in repository.parked_events_for_update(
            self.session, provider_call_ids=provider_ids, message_types=CALL_TYPES
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
        ending = [e for e in events if may_end_call(e)]
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
        our_id = metadata_call_id(event)
        call = self.by_id.get(our_id) if our_id is not None else None
        correlated = call is not None and call.provider_call_id is None
        if correlate and correlated and event.provider_call_id is not None:
            assert call is not None
            call.provider_call_id = event.provider_call_id
            self.by_provider_id[event.provider_call_id] = call
            self.batch.decisions += dial_decisions([call])
            self.correlated += 1
        return call

    def apply(self, event: StoredEvent) -> None:
        if event.message_type in TEXT_TYPES:
            self.texts.apply(event)
            return
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
        held_capacity = is_in_flight(call.status)
        changed = self._apply_message(event, call)
        if held_capacity and not is_in_flight(call.status):
            self.freed.add(call.org_id)
        outcome = WebhookOutcome.APPLIED if changed else WebhookOutcome.NO_CHANGE
        self._record(EventOutcome(event.id, outcome, call.id, call.org_id), event.message_type)

    def _apply_message(self, event: StoredEvent, call: Call) -> bool:
        report = call_report(event)
        if report is None:
            return False
        if isinstance(report, StatusReport):
            return apply_status_report(self.session, call=call, report=report, batch=self.batch)
        changed = apply_end_of_call_report(self.session, call=call, report=report, batch=self.batch)
        self.ended.append(
            EndedCall(
                call_id=call.id,
                org_id=call.org_id,
                campaign_id=call.campaign_id,
                ended_reason=report.ending.ended_reason or call.ended_reason,
                analysis=report.analysis,
            )
        )
        return changed

    def _record(self, outcome: EventOutcome, message_type: str) -> None:
        self.outcomes.append(outcome)
        self.tally[counted_type(message_type), outcome.outcome] += 1

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
        # Last, once every row lock is held: it may wait for the sends in flight. The opt-outs
        # heard in calls and in texts in one statement, the opt-ins of texts in another.
        listed, withdrawn = settle(self.texts.keywords)
        record_opt_outs(self.session, ended=self.ended, now=now, heard_in_texts=listed)
        withdraw_opt_outs(self.session, numbers=withdrawn)
        record_text_events(self.session, replied_sessions=self.texts.replied_rows, now=now)
        self.outcomes += self.texts.outcomes
        lags = repository.record_outcomes(self.session, self.outcomes, now=now)
        count_events(self.tally + self.texts.tally)
        observe_apply_lag(lags)
        if self.correlated:
            count("orchestrator_calls_correlated", self.correlated)
        outcomes = {o.event_id: o.outcome for o in self.outcomes}
        replied = frozenset(self.texts.replied)
        return AppliedEvents(outcomes, frozenset(self.freed), claimed, replied)


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
    parked = repository.parked_events_for_update(
        session, provider_call_ids=[call.provider_call_id], message_types=CALL_TYPES
    )
    if not parked:
        return False
    application = _BatchApplication(session)
    application.add_calls([call])
    application.parked[call.provider_call_id] = parked
    application.lock_contacts_of(parked)
    application.apply_parked(call)
    return bool(application.finish().freed_org_ids)


def apply_parked_events_of(session: Session, *, calls: Sequence[Call]) -> bool:
    """``apply_parked_events`` for many calls: one look for parked messages (almost always
    none), then each call that has some. True when one of them freed capacity."""
    provider_ids = [call.provider_call_id for call in calls if call.provider_call_id]
    if not repository.parked_events_for_update(
        session, provider_call_ids=provider_ids, message_types=CALL_TYPES
    ):
        return False
    freed = [apply_parked_events(session, call=call) for call in calls]
    return any(freed)


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
