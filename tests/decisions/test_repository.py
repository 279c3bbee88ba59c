"""The history's reads: a contact's attempts in order, and its decisions going with it."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from orchestrator.clock import ManualClock
from orchestrator.decisions import repository
from orchestrator.decisions.recording import Decision, record_decisions
from orchestrator.models import Campaign, ContactDecision, DecisionKind
from orchestrator.orgs.service import CreatedOrg
from tests.factories import contacts_of, dispatch_campaign, end_call, make_campaign


def test_a_contacts_attempts_come_first_attempt_first(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    plan = {"maxAttempts": 3, "retryOn": ["customer-busy"], "delaySeconds": 1}
    campaign_id = make_campaign(session, org=org, customers=1, retryPlan=plan)
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    made = []
    for _ in range(3):
        (call_id,) = dispatch_campaign(
            session, campaign_id=campaign_id, now=clock.advance(5), batch_limit=1
        )
        end_call(session, call_id=call_id, reason="customer-busy")
        made.append(call_id)

    attempts = repository.attempts_of(session, contact_id=contact.id)
    assert [(a.id, a.attempt) for a in attempts] == list(zip(made, [1, 2, 3], strict=True))


def test_a_contacts_decisions_go_with_it(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = make_campaign(session, org=org, customers=2)
    first, second = contacts_of(session, campaign_id=campaign_id)
    record_decisions(session, [Decision(c.id, DecisionKind.CLAIMED) for c in (first, second)])
    shown, older = repository.decisions_of(session, contact_id=first.id, limit=1)
    assert ([d.contact_id for d in shown], older) == ([first.id], 0)

    session.execute(delete(Campaign).where(Campaign.id == campaign_id))
    left = select(func.count()).select_from(ContactDecision)
    assert session.scalar(left.where(ContactDecision.campaign_id == campaign_id)) == 0
