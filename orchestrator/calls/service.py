"""Call attempts: every status change goes through ``move_call`` so counters move with it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from orchestrator.calls import repository
from orchestrator.calls.ended_reasons import completes_contact
from orchestrator.calls.retry_plan import RetryDecision, decide_retry, plan_from_extensions
from orchestrator.calls.states import is_in_flight, next_call_status
from orchestrator.campaigns import counter_repository
from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.campaigns.counters import CounterDeltas, counter_deltas
from orchestrator.campaigns.repository import ACTIVE_STATUSES as ACTIVE_CAMPAIGN_STATUSES
from orchestrator.clock import utcnow
from orchestrator.contacts import repository as contacts_repo
from orchestrator.contacts.states import ContactEvent, next_contact_status, unsent_attempt_event
from orchestrator.decisions.decision import DeferralReason
from orchestrator.decisions.recording import Decision, dial_decisions, record_decisions
from orchestrator.events.recording import ContactChange, record_contact_changes
from orchestrator.models import Call, CallStatus, Campaign, Contact, ContactStatus, DecisionKind
from orchestrator.texts.follow_ups import FollowUp, follow_up_for, queue_follow_ups


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

    counter_deltas: dict[uuid.UUID, CounterDeltas] = field(default_factory=dict)
    settled_campaigns: set[uuid.UUID] = field(default_factory=set)
    locked_contacts: dict[uuid.UUID, Contact] = field(default_factory=dict)
    # Held here: the session's identity map alone would let an unmodified row go, and load it
    # again for the next call.
    campaigns: dict[uuid.UUID, Campaign | None] = field(default_factory=dict)
    # Contacts' moves, whose campaign events are written together.
    contact_changes: list[ContactChange] = field(default_factory=list)
    # Decisions about contacts (a retry scheduled, a call the provider took), written together.
    decisions: list[Decision] = field(default_factory=list)
    # Follow-up texts the calls' ends call for, queued after the calls and contacts are written.
    follow_ups: list[FollowUp] = field(default_factory=list)

    def campaign(self, session: Session, campaign_id: uuid.UUID) -> Campaign | None:
        if campaign_id not in self.campaigns:
            self.campaigns[campaign_id] = session.get(Campaign, campaign_id)
        return self.campaigns[campaign_id]

    def lock_contacts(self, session: Session, *, contact_ids: Iterable[uuid.UUID]) -> None:
        for contact in contacts_repo.lock_contacts(session, contact_ids=contact_ids):
            self.locked_contacts[contact.id] = contact

    def add_deltas(self, campaign_id: uuid.UUID, deltas: CounterDeltas) -> None:
        self.counter_deltas[campaign_id] = (
            self.counter_deltas.get(campaign_id, CounterDeltas()) + deltas
        )

    def write(self, session: Session) -> None:
        """The summed counter moves, then the done check: call once, after the last move.

        The contacts' events are written before the check, so a campaign's ``campaign.ended``
        comes after the events of its last contacts."""
        record_decisions(session, self.decisions)
        self.decisions.clear()
        record_contact_changes(session, self.contact_changes)
        self.contact_changes.clear()
        queue_follow_ups(session, self.follow_ups, now=utcnow())
        self.follow_ups.clear()
        for campaign_id in sorted(self.counter_deltas):
            deltas = self.counter_deltas[campaign_id]
            counter_repository.bump_counters(session, campaign_id=campaign_id, deltas=deltas)
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


def _outcome_event(call: Call, contact: Contact, *, unsent: bool) -> ContactEvent:
    """How the contact's attempts ended, if no retry follows."""
    if unsent:
        return unsent_attempt_event(
            attempts=contact.attempts, last_ended_reason=contact.last_ended_reason
        )
    if call.status == CallStatus.ENDED and completes_contact(call.ended_reason):
        return ContactEvent.COMPLETE
    return ContactEvent.FAIL


def _settle_contact(
    session: Session, call: Call, *, unsent: bool, batch: CallBatch | None
) -> tuple[ContactStatus, ContactStatus] | None:
    """Move on the contact of a call that is over; its statuses before and after, or None."""
    if call.contact_id is None:
        return None
    contact = _locked_contact(session, call.contact_id, batch)
    if contact is None:
        return None
    before = contact.status
    retry = None
    if not unsent and next_contact_status(before, ContactEvent.RETRY) is not None:
        retry = _retry_decision(session, call, contact, batch)
    event = (
        ContactEvent.RETRY if retry is not None else _outcome_event(call, contact, unsent=unsent)
    )
    after = next_contact_status(before, event)
    if after is None:
        return None  # it no longer waits for this call
    contact.status = after
    contact.updated_at = utcnow()
    if retry is not None:
        _wait_for_retry(contact, call, retry)
        _decide(session, _retry_decision_of(contact, call, retry), batch)
    else:
        _record_outcome(contact, call, unsent=unsent)
        _record_event(session, contact, before, call_id=None if unsent else call.id, batch=batch)
        if unsent:
            _decide(session, _end_without_call(contact, call), batch)
    if not unsent:
        # Last: the contact's row is written once, whatever the follow-up reads or writes.
        _follow_up(session, call, contact, final=retry is None, batch=batch)
    return before, after


def _follow_up(
    session: Session, call: Call, contact: Contact, *, final: bool, batch: CallBatch | None
) -> None:
    """The campaign's follow-up text, if this end calls for one (queued with the batch)."""
    if call.campaign_id is None:
        return
    with session.no_autoflush:
        campaign = (
            batch.campaign(session, call.campaign_id)
            if batch is not None
            else session.get(Campaign, call.campaign_id)
        )
    follow_up = follow_up_for(
        campaign,
        contact_id=contact.id,
        customer=contact.customer,
        phone_number_id=call.phone_number_id,
        ended_reason=call.ended_reason,
        final=final,
    )
    if follow_up is None:
        return
    if batch is not None:
        batch.follow_ups.append(follow_up)
    else:
        queue_follow_ups(session, [follow_up], now=utcnow())


def _decide(session: Session, decision: Decision, batch: CallBatch | None) -> None:
    if batch is not None:
        batch.decisions.append(decision)
    else:
        record_decisions(session, [decision])


def _retry_decision_of(contact: Contact, call: Call, retry: RetryDecision) -> Decision:
    detail: dict[str, Any] = {"endedReason": call.ended_reason}
    if retry.transient:
        detail["transient"] = True
    return Decision(
        contact.id,
        DecisionKind.DEFERRED,
        reason=DeferralReason.RETRY,
        retry_at=contact.not_before,
        call_id=call.id,
        detail=detail,
    )


def _end_without_call(contact: Contact, call: Call) -> Decision:
    """A contact whose latest attempt never left ends: skipped if it never had one that did,
    else closed as its last real attempt ended; why is its ``status_reason``."""
    kind = DecisionKind.SKIPPED if contact.status == ContactStatus.SKIPPED else DecisionKind.CLOSED
    return Decision(contact.id, kind, reason=contact.status_reason, call_id=call.id)


def _record_event(
    session: Session,
    contact: Contact,
    before: ContactStatus,
    *,
    call_id: uuid.UUID | None,
    batch: CallBatch | None,
) -> None:
    change = ContactChange(
        contact.id,
        contact.campaign_id,
        before,
        contact.status,
        call_id=call_id,
        ended_reason=contact.last_ended_reason,
    )
    if batch is not None:
        batch.contact_changes.append(change)
    else:
        record_contact_changes(session, [change])


def _wait_for_retry(contact: Contact, call: Call, retry: RetryDecision) -> None:
    contact.not_before = utcnow() + timedelta(seconds=retry.delay_seconds)
    contact.last_ended_reason = call.ended_reason
    contact.status_reason = f"retry: {retry.reason}"
    contact.transient_failures += int(retry.transient)


def _record_outcome(contact: Contact, call: Call, *, unsent: bool) -> None:
    # An attempt never sent ends the contact as its last real one did: that one's reason stays.
    if not unsent:
        contact.last_ended_reason = call.ended_reason
    reason = call.ended_reason if unsent else call.error_message
    contact.status_reason = None if contact.status == ContactStatus.COMPLETED else reason


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

    A call that is over settles its contact, and the counters move with both. With a
    ``batch``, the campaign's counters and done check wait for ``batch.write``.
    """
    target = next_call_status(call.status, reported)
    if target is None:
        return False
    before = call.status
    call.status = target
    call.updated_at = utcnow()
    if ending is not None:
        call.ended_reason = call.ended_reason or ending.ended_reason
        call.started_at = call.started_at or ending.started_at
        call.ended_at = call.ended_at or ending.ended_at or (utcnow() if ending.stamp_now else None)
    settled = not is_in_flight(target)
    contact = _settle_contact(session, call, unsent=unsent, batch=batch) if settled else None
    deltas = counter_deltas(
        contact_before=contact[0] if contact else None,
        contact_after=contact[1] if contact else None,
        call_before=before,
        call_after=target,
        ended_reason=call.ended_reason,
    )
    if call.campaign_id is not None:
        _campaign_moves(session, call.campaign_id, deltas, settled=settled, batch=batch)
    return True


def _campaign_moves(
    session: Session,
    campaign_id: uuid.UUID,
    deltas: CounterDeltas,
    *,
    settled: bool,
    batch: CallBatch | None,
) -> None:
    if batch is not None:
        batch.add_deltas(campaign_id, deltas)
        if settled:
            batch.settled_campaigns.add(campaign_id)
        return
    counter_repository.bump_counters(session, campaign_id=campaign_id, deltas=deltas)
    if settled:
        campaigns_repo.finish_if_done(session, campaign_id=campaign_id)


def return_call_to_pending(session: Session, call: Call) -> bool:
    """Withdraw a call not sent yet (locked by the caller): the attempt never happened.

    The call row goes, and its contact waits again as if it had never been claimed.
    """
    contact = (
        contacts_repo.get_contact_for_update(session, contact_id=call.contact_id)
        if call.contact_id
        else None
    )
    call_before = call.status
    repository.delete_call(session, call)
    before = contact.status if contact is not None else None
    after = next_contact_status(before, ContactEvent.UNCLAIM) if before is not None else None
    if contact is None or after is None:
        return False
    contact.status = after
    contact.attempts -= 1
    contact.updated_at = utcnow()
    session.flush()
    if call.campaign_id is not None:
        deltas = counter_deltas(contact_before=before, contact_after=after, call_before=call_before)
        counter_repository.bump_counters(session, campaign_id=call.campaign_id, deltas=deltas)
    return True


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


def record_provider_calls(
    session: Session, *, provider_calls: Mapping[uuid.UUID, Mapping[str, Any]]
) -> list[Call]:
    """``record_provider_call`` for many created calls in one go: their rows locked in id
    order (without the request sent, which is not read again), written in one statement,
    their ``dialed`` decisions and counter moves written once."""
    batch = CallBatch()
    calls = list(
        repository.lock_calls_by_ids(session, provider_call_ids=(), call_ids=provider_calls)
    )
    for call in calls:
        if call.provider_call_id is None:
            call.provider_call_id = str(provider_calls[call.id]["id"])
            batch.decisions.extend(dial_decisions([call]))
        move_call(session, call, CallStatus.QUEUED, batch=batch)
    changed = [call for call in calls if inspect(call).modified]
    repository.write_call_states(session, changed, now=utcnow())
    batch.write(session)
    return calls


def record_provider_call(
    session: Session, *, call_id: uuid.UUID, provider_call: dict[str, Any]
) -> Call | None:
    """Store the provider's id for a created call; webhooks may already have moved it on."""
    call = repository.get_call_for_update(session, call_id=call_id)
    if call is None:
        return None
    if call.provider_call_id is None:
        call.provider_call_id = str(provider_call["id"])
        record_decisions(session, dial_decisions([call]))
    move_call(session, call, CallStatus.QUEUED)
    return call
