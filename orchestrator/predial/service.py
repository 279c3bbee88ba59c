"""Starting a pre-dial check, and applying its verdict to the contact (one place for both).

A check belongs to one attempt and is identified by its lease (``predial_lease_until``):
the task carries it, starting the check renews it, and the verdict applies only while it
is still the contact's lease. A verdict that comes for a contact closed meanwhile (the
campaign stopped, its window closed), or whose lease lapsed and was asked again, is
recorded on the contact and changes nothing else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.campaigns import counter_repository
from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.campaigns.counters import counter_deltas
from orchestrator.contacts import repository as contacts_repo
from orchestrator.contacts.states import ContactEvent, next_contact_status
from orchestrator.decisions.recording import Decision, record_decisions
from orchestrator.events.recording import ContactChange, record_contact_changes
from orchestrator.models import Campaign, Contact, ContactStatus, DecisionKind, Org
from orchestrator.predial import repository
from orchestrator.predial.message import predial_message
from orchestrator.predial.plan import PredialPlan, predial_plan_of
from orchestrator.predial.verdicts import Outcome, Verdict, outcome_of
from orchestrator.reasons import PREDIAL_ERROR, PREDIAL_NOT_ELIGIBLE
from orchestrator.user_servers.sending import encode_body
from orchestrator.wire import iso

# A started check holds its lease for its request's timeout and this much more.
CHECK_MARGIN = timedelta(seconds=10)
# A cleared contact not claimed by then is asked again: a verdict is about now, not later.
CLEARED_FOR = timedelta(minutes=2)
# ``onError: "retry"``: the n-th retry waits FIRST_RETRY_AFTER * 2**(n-1), at most RETRY_CAP.
FIRST_RETRY_AFTER = timedelta(seconds=5)
RETRY_CAP = timedelta(minutes=5)


@dataclass(frozen=True)
class StartedCheck:
    """A check its task may send: the request, and the lease the verdict must find."""

    contact_id: uuid.UUID
    org_id: uuid.UUID
    campaign_id: uuid.UUID
    lease_until: datetime
    plan: PredialPlan
    body: bytes
    timestamp: str
    secret: str | None


def _is_current(contact: Contact, lease_until: datetime) -> bool:
    return (
        contact.status == ContactStatus.PENDING
        and contact.predial_state == repository.CHECKING
        and contact.predial_lease_until == lease_until
    )


def begin_check(
    session: Session, *, contact_id: uuid.UUID, lease_until: datetime, now: datetime
) -> StartedCheck | None:
    """Renew the check's lease and build its request; None when it is no longer to be sent
    (a copy of the task, a lapsed lease asked again since, a contact or campaign that moved)."""
    contact = contacts_repo.get_contact_for_update(session, contact_id=contact_id)
    if contact is None or not _is_current(contact, lease_until):
        return None
    campaign = session.get(Campaign, contact.campaign_id)
    plan = predial_plan_of(campaign) if campaign is not None else None
    if campaign is None or plan is None or campaign.status not in campaigns_repo.DIALABLE_STATUSES:
        # Paused since (or its checks turned off): asked afresh when it dials again, without
        # its room held until the lease lapses.
        _unasked(contact)
        return None
    contact.predial_lease_until = now + timedelta(seconds=plan.timeout_seconds) + CHECK_MARGIN
    message = predial_message(contact, now=now)
    org = session.get(Org, contact.org_id)
    return StartedCheck(
        contact_id=contact.id,
        org_id=contact.org_id,
        campaign_id=contact.campaign_id,
        lease_until=contact.predial_lease_until,
        plan=plan,
        body=encode_body(message),
        timestamp=str(message["message"]["timestamp"]),
        secret=org.signing_secret if org is not None else None,
    )


def apply_verdict(
    session: Session, *, check: StartedCheck, verdict: Verdict, now: datetime
) -> Outcome:
    """Record the verdict on the contact and, if its check is still current, act on it."""
    contact = contacts_repo.get_contact_for_update(session, contact_id=check.contact_id)
    if contact is None:
        return Outcome.IGNORED
    contact.predial_verdict = {
        "attempt": contact.attempts + (1 if contact.status == ContactStatus.PENDING else 0),
        "verdict": verdict.kind.value,
        "error": verdict.error,
        "at": iso(now),
    }
    if not _is_current(contact, check.lease_until):
        return Outcome.IGNORED
    outcome = outcome_of(verdict, plan=check.plan, errors_so_far=contact.predial_errors)
    # Before acting on it: the skip or the end it leads to comes after it in the history.
    record_decisions(session, [_verdict_decision(contact, verdict, outcome, now=now)])
    if outcome == Outcome.CLEARED:
        contact.predial_state = repository.ELIGIBLE
        contact.predial_lease_until = now + CLEARED_FOR
    elif outcome == Outcome.RETRY_LATER:
        contact.predial_errors += 1
        contact.not_before = now + retry_delay(contact.predial_errors)
        _unasked(contact)
    elif outcome == Outcome.REFUSED:
        _end(session, contact, event=ContactEvent.PREDIAL_REFUSE, reason=PREDIAL_NOT_ELIGIBLE)
    else:
        error = verdict.error or "no verdict"
        _end(session, contact, event=ContactEvent.PREDIAL_FAIL, reason=PREDIAL_ERROR, error=error)
    return outcome


def _verdict_decision(
    contact: Contact, verdict: Verdict, outcome: Outcome, *, now: datetime
) -> Decision:
    detail: dict[str, Any] = {"outcome": outcome.value}
    if verdict.error is not None:
        detail["error"] = verdict.error[:500]
    retry_at = None
    if outcome == Outcome.RETRY_LATER:
        retry_at = now + retry_delay(contact.predial_errors + 1)
    return Decision(
        contact.id,
        DecisionKind.PREDIAL,
        reason=verdict.kind.value,
        retry_at=retry_at,
        detail=detail,
    )


def retry_delay(retries: int) -> timedelta:
    """How long the ``retries``-th retry of a failed check waits."""
    return min(FIRST_RETRY_AFTER * (1 << max(retries - 1, 0)), RETRY_CAP)


def _unasked(contact: Contact) -> None:
    contact.predial_state = None
    contact.predial_lease_until = None


def _end(
    session: Session,
    contact: Contact,
    *,
    event: ContactEvent,
    reason: str,
    error: str | None = None,
) -> None:
    """The contact ends without a call: counted, reported to the campaign's server (skipped,
    or predial-failed with the check's ``error``), and the campaign ended if it was the last."""
    after = next_contact_status(contact.status, event)
    assert after is not None, (contact.status, event)
    deltas = counter_deltas(contact_before=contact.status, contact_after=after)
    change = ContactChange(contact.id, contact.campaign_id, contact.status, after, error=error)
    record_contact_changes(session, [change])
    kind = DecisionKind.SKIPPED if after == ContactStatus.SKIPPED else DecisionKind.CLOSED
    record_decisions(session, [Decision(contact.id, kind, reason=reason)])
    contact.status = after
    contact.status_reason = reason
    _unasked(contact)
    session.flush()
    counter_repository.bump_counters(session, campaign_id=contact.campaign_id, deltas=deltas)
    campaigns_repo.finish_if_done(session, campaign_id=contact.campaign_id)
