"""What the gate's verdict does to whoever it holds back, at claim and at send.

* Suppressed, or capped past its window's end: it ends without a call. A contact never
  dialed is ``skipped`` (``status_reason`` = the reason, its ``skipReason``); one waiting for
  a retry ends as its last attempt did. A direct call ends ``failed``, never sent.
* Capped within its window: it waits until its allowance frees. A contact stays (or goes
  back to) ``pending`` with ``not_before`` then and ``deferral = "frequency-cap"``; a direct
  call is ``scheduled`` again for then.

Every status change goes through the state machines, counters through ``counter_deltas``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.service import fail_call, return_call_to_pending
from orchestrator.campaigns import counter_repository
from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.campaigns.counters import CounterDeltas, counter_deltas
from orchestrator.clock import utcnow
from orchestrator.contacts import gate_repository
from orchestrator.decisions.decision import DecisionKind, GateStage
from orchestrator.decisions.recording import (
    Decision,
    Deferral,
    record_decisions,
    record_each_deferral,
    suppression_decision,
)
from orchestrator.events.recording import ContactChange, record_contact_changes
from orchestrator.gate.decisions import FREQUENCY_CAP_DEFERRAL, GateDecision
from orchestrator.models import Call, CallStatus, Contact, ContactStatus
from orchestrator.reasons import FREQUENCY_CAP_MESSAGE, SUPPRESSED, SUPPRESSED_MESSAGE

MESSAGES = {SUPPRESSED: SUPPRESSED_MESSAGE}


def _message(reason: str) -> str:
    return MESSAGES.get(reason, FREQUENCY_CAP_MESSAGE)


def hold_back_contacts(
    session: Session, decisions: Sequence[GateDecision], *, now: datetime
) -> set[uuid.UUID]:
    """Apply the claim-time verdicts on pending contacts; the campaigns some of them ended in."""
    by_reason: dict[str, list[uuid.UUID]] = defaultdict(list)
    waits: dict[uuid.UUID, datetime] = {}
    for decision in decisions:
        reason = decision.skip_reason
        if reason is not None:
            by_reason[reason].append(decision.prospect.id)
        elif decision.until is not None:
            waits[decision.prospect.id] = decision.until
    # Recorded before the wait is set: a deferral is a decision only when the reason changes.
    record_each_deferral(
        session,
        (
            Deferral(contact_id, FREQUENCY_CAP_DEFERRAL, until)
            for contact_id, until in waits.items()
        ),
        now=now,
    )
    gate_repository.defer_contacts(
        session, until_by_contact=waits, deferral=FREQUENCY_CAP_DEFERRAL, now=now
    )
    ended = [
        row
        for reason, contact_ids in sorted(by_reason.items())
        for row in gate_repository.end_refused_contacts(
            session, contact_ids=contact_ids, reason=reason
        )
    ]
    record_decisions(session, _ending_decisions(decisions, ended), now=now)
    deltas: dict[uuid.UUID, CounterDeltas] = defaultdict(CounterDeltas)
    for _, campaign_id, status, _ in ended:
        deltas[campaign_id] += counter_deltas(
            contact_before=ContactStatus.PENDING, contact_after=status
        )
    for campaign_id in sorted(deltas):
        counter_repository.bump_counters(
            session, campaign_id=campaign_id, deltas=deltas[campaign_id]
        )
    record_contact_changes(
        session,
        (
            ContactChange(contact_id, campaign_id, ContactStatus.PENDING, status, ended_reason=last)
            for contact_id, campaign_id, status, last in ended
        ),
    )
    return set(deltas)


def _ending_decisions(
    decisions: Sequence[GateDecision],
    ended: Sequence[tuple[uuid.UUID, uuid.UUID, ContactStatus, str | None]],
) -> list[Decision]:
    """What the history says of contacts the claim-time gate ended: the suppression found, if
    that was why, then ``skipped`` (never dialed) or ``closed`` (its retry will not come)."""
    by_contact = {decision.prospect.id: decision for decision in decisions}
    recorded: list[Decision] = []
    for contact_id, _, status, _ in ended:
        decision = by_contact[contact_id]
        reason = decision.skip_reason
        if reason == SUPPRESSED and decision.prospect.number is not None:
            recorded.append(
                suppression_decision(
                    contact_id, stage=GateStage.CLAIM, number=decision.prospect.number
                )
            )
        kind = DecisionKind.SKIPPED if status == ContactStatus.SKIPPED else DecisionKind.CLOSED
        recorded.append(Decision(contact_id, kind, reason=reason))
    return recorded


def hold_back_direct_calls(
    session: Session, decisions: Sequence[GateDecision], *, now: datetime
) -> None:
    """Apply the claim-time verdicts on scheduled direct calls (the waits in one statement)."""
    waits = {
        d.prospect.id: d.until for d in decisions if d.skip_reason is None and d.until is not None
    }
    calls_repo.defer_direct_calls(session, until_by_call=waits, now=now)
    for decision in decisions:
        reason = decision.skip_reason
        if reason is None:
            continue
        call = calls_repo.get_call_for_update(session, call_id=decision.prospect.id)
        if call is not None and call.status == CallStatus.SCHEDULED:  # not deleted meanwhile
            fail_call(session, call, reason=reason, message=_message(reason), unsent=True)


def finish_campaigns(session: Session, campaign_ids: set[uuid.UUID]) -> None:
    """End those of the campaigns whose last contacts the gate ended."""
    for campaign_id in sorted(campaign_ids):
        campaigns_repo.finish_if_done(session, campaign_id=campaign_id)


def refuse_send(session: Session, *, call_id: uuid.UUID, decision: GateDecision) -> None:
    """A call the send-time check held back (never sent): it ends, or waits for its allowance."""
    call = calls_repo.get_call_for_update(session, call_id=call_id)
    if call is None or call.status != CallStatus.DIALING:
        return
    reason = decision.skip_reason
    if reason is not None:
        number = decision.prospect.number
        if reason == SUPPRESSED and call.contact_id is not None and number is not None:
            found = suppression_decision(
                call.contact_id, stage=GateStage.SEND, number=number, call_id=call.id
            )
            record_decisions(session, [found])
        # An unsent call's end records the contact's ``skipped`` or ``closed``.
        fail_call(session, call, reason=reason, message=_message(reason), unsent=True)
    elif decision.until is None:
        return  # cleared: nothing holds it back
    elif call.campaign_id is None:
        calls_repo.defer_dialing_call(session, call_id=call_id, until=decision.until)
    else:
        _contact_waits(session, call, until=decision.until, deferral=decision.deferral)


def _contact_waits(session: Session, call: Call, *, until: datetime, deferral: str) -> None:
    contact_id = call.contact_id
    if not return_call_to_pending(session, call) or contact_id is None:
        return
    # The claim cleared the contact's reason to wait, so this wait is recorded; the recording
    # sets the reason (``deferral``).
    record_each_deferral(session, [Deferral(contact_id, deferral, until)], now=utcnow())
    contact = session.get(Contact, contact_id)
    if contact is not None:
        contact.not_before = until
