"""Call attempts: every status change goes through ``move_call`` so counters move with it."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.calls import repository
from orchestrator.calls.ended_reasons import VOICEMAIL_REASON, completes_contact
from orchestrator.calls.retry_plan import RetryDecision, decide_retry, plan_from_extensions
from orchestrator.calls.states import counter_bucket, is_in_flight, next_call_status
from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.campaigns.repository import ACTIVE_STATUSES as ACTIVE_CAMPAIGN_STATUSES
from orchestrator.clock import utcnow
from orchestrator.contacts import repository as contacts_repo
from orchestrator.models import Call, CallStatus, Campaign, Contact, ContactStatus


@dataclass(frozen=True)
class CallEnding:
    ended_reason: str | None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    # Without a reported end time, the call ended now (our own endings). Provider messages
    # say False: their times come only from what the provider reported, so the result does
    # not depend on the order messages arrive in.
    stamp_now: bool = True


@dataclass
class CallBatch:
    """Many calls moved in one transaction, their campaign writes made once at the end.

    Counter deltas are summed per campaign and written in one upsert each, and each campaign
    that had a call settle is checked for being done once. Contacts the caller has already
    locked (``lock_contacts``) are used without another query.
    """

    counter_deltas: defaultdict[uuid.UUID, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    settled_campaigns: set[uuid.UUID] = field(default_factory=set)
    locked_contacts: dict[uuid.UUID, Contact] = field(default_factory=dict)
    # Held here: the session's identity map alone would let an unmodified row go, and load it
    # again for the next call.
    campaigns: dict[uuid.UUID, Campaign | None] = field(default_factory=dict)

    def campaign(self, session: Session, campaign_id: uuid.UUID) -> Campaign | None:
        if campaign_id not in self.campaigns:
            self.campaigns[campaign_id] = session.get(Campaign, campaign_id)
        return self.campaigns[campaign_id]

    def lock_contacts(self, session: Session, *, contact_ids: Iterable[uuid.UUID]) -> None:
        for contact in contacts_repo.lock_contacts(session, contact_ids=contact_ids):
            self.locked_contacts[contact.id] = contact

    def write(self, session: Session) -> None:
        """The summed counter moves, then the done check: call once, after the last move."""
        for campaign_id in sorted(self.counter_deltas):
            deltas = self.counter_deltas[campaign_id]
            campaigns_repo.bump_counters(session, campaign_id=campaign_id, **deltas)
        for campaign_id in sorted(self.settled_campaigns):
            campaigns_repo.finish_if_done(session, campaign_id=campaign_id)
        self.counter_deltas.clear()
        self.settled_campaigns.clear()


def _locked_contact(
    session: Session, contact_id: uuid.UUID, batch: CallBatch | None
) -> Contact | None:
    if batch is not None and contact_id in batch.locked_contacts:
        return batch.locked_contacts[contact_id]
    return contacts_repo.get_contact_for_update(session, contact_id=contact_id)


def _contact_status_after(call: Call) -> ContactStatus:
    if call.status == CallStatus.ENDED and completes_contact(call.ended_reason):
        return ContactStatus.COMPLETED
    return ContactStatus.FAILED


def status_before_unsent_attempt(contact: Contact) -> ContactStatus:
    """Outcome of a contact whose latest attempt never left: skipped, or what the last one got."""
    if contact.attempts <= 1 or contact.last_ended_reason is None:
        return ContactStatus.SKIPPED
    if completes_contact(contact.last_ended_reason):
        return ContactStatus.COMPLETED
    return ContactStatus.FAILED


def _retry_decision(
    session: Session, call: Call, contact: Contact, batch: CallBatch | None
) -> RetryDecision | None:
    if call.campaign_id is None:
        return None
    if batch is not None:
        campaign = batch.campaign(session, call.campaign_id)
    else:
        campaign = session.get(Campaign, call.campaign_id)
    if campaign is None or campaign.status not in ACTIVE_CAMPAIGN_STATUSES:
        return None
    decision = decide_retry(
        plan_from_extensions(campaign.extensions),
        ended_reason=call.ended_reason,
        attempts_made=contact.attempts,
        transient_failures=contact.transient_failures,
    )
    if not decision.retry:
        return None
    due = utcnow() + timedelta(seconds=decision.delay_seconds)
    if campaign.latest_at is not None and due >= campaign.latest_at:
        return None
    return decision


def _return_for_retry(
    contact: Contact, call: Call, decision: RetryDecision, deltas: Counter[str]
) -> None:
    contact.status = ContactStatus.PENDING
    contact.not_before = utcnow() + timedelta(seconds=decision.delay_seconds)
    contact.last_ended_reason = call.ended_reason
    contact.status_reason = f"retry: {decision.reason}"
    contact.transient_failures += int(decision.transient)
    contact.updated_at = utcnow()
    deltas["contacts_dispatched"] -= 1
    deltas["contacts_pending"] += 1
    deltas["calls_counter_scheduled"] += 1


def _finish_contact(
    session: Session,
    call: Call,
    deltas: Counter[str],
    *,
    unsent: bool,
    batch: CallBatch | None,
) -> None:
    if call.contact_id is None:
        return
    contact = _locked_contact(session, call.contact_id, batch)
    if contact is None or contact.status != ContactStatus.DISPATCHED:
        return
    reason = call.error_message
    if unsent:
        outcome = status_before_unsent_attempt(contact)
        reason = call.ended_reason
    else:
        decision = _retry_decision(session, call, contact, batch)
        if decision is not None:
            _return_for_retry(contact, call, decision, deltas)
            return
        outcome = _contact_status_after(call)
        contact.last_ended_reason = call.ended_reason
    contact.status = outcome
    contact.status_reason = None if outcome == ContactStatus.COMPLETED else reason
    contact.updated_at = utcnow()
    deltas["contacts_dispatched"] -= 1
    deltas[f"contacts_{outcome.value.replace('-', '_')}"] += 1


def move_call(
    session: Session,
    call: Call,
    reported: CallStatus,
    *,
    ending: CallEnding | None = None,
    unsent: bool = False,
    batch: CallBatch | None = None,
) -> bool:
    """Move ``call`` (locked by the caller) forward to ``reported``; False if it changes nothing.

    With a ``batch``, the campaign's counters and done check wait for ``batch.write``.
    """
    target = next_call_status(call.status, reported)
    if target is None:
        return False
    deltas: Counter[str] = Counter()
    before, after = counter_bucket(call.status), counter_bucket(target)
    if before != after:
        if before:
            deltas[before] -= 1
        if after:
            deltas[after] += 1
    call.status = target
    call.updated_at = utcnow()
    if ending is not None:
        call.ended_reason = call.ended_reason or ending.ended_reason
        call.started_at = call.started_at or ending.started_at
        call.ended_at = call.ended_at or ending.ended_at or (utcnow() if ending.stamp_now else None)
    if not is_in_flight(target):
        if target == CallStatus.ENDED and call.ended_reason == VOICEMAIL_REASON:
            deltas["calls_counter_ended_voicemail"] += 1
        _finish_contact(session, call, deltas, unsent=unsent, batch=batch)
    if call.campaign_id is not None:
        _campaign_moves(
            session, call.campaign_id, deltas, settled=not is_in_flight(target), batch=batch
        )
    return True


def _campaign_moves(
    session: Session,
    campaign_id: uuid.UUID,
    deltas: Counter[str],
    *,
    settled: bool,
    batch: CallBatch | None,
) -> None:
    if batch is not None:
        batch.counter_deltas[campaign_id].update(deltas)
        if settled:
            batch.settled_campaigns.add(campaign_id)
        return
    campaigns_repo.bump_counters(session, campaign_id=campaign_id, **deltas)
    if settled:
        campaigns_repo.finish_if_done(session, campaign_id=campaign_id)


def fail_call(
    session: Session,
    call: Call,
    *,
    reason: str,
    message: str,
    unsent: bool = False,
) -> bool:
    """The provider never had this call: it refused the create, or (``unsent``) we never sent it."""
    call.error_message = message
    return move_call(
        session,
        call,
        CallStatus.FAILED,
        ending=CallEnding(ended_reason=reason),
        unsent=unsent,
    )


def record_provider_call(
    session: Session, *, call_id: uuid.UUID, provider_call: dict[str, Any]
) -> Call | None:
    """Store the provider's id for a created call; webhooks may already have moved it on."""
    call = repository.get_call_for_update(session, call_id=call_id)
    if call is None:
        return None
    call.provider_call_id = call.provider_call_id or str(provider_call["id"])
    move_call(session, call, CallStatus.QUEUED)
    return call
