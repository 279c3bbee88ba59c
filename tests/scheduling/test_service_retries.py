"""Retry plans in the scheduler: not-before times, attempt caps, numbered attempts, counters."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import counter_drift
from orchestrator.clock import ManualClock
from orchestrator.models import CampaignStatus, ContactStatus
from tests.factories import (
    calls_of_contact,
    campaign_of,
    contacts_of,
    dispatch,
    end_call,
    fast_caller_number,
    make_campaign,
    make_org,
)

NO_ANSWER = "customer-did-not-answer"
PLAN = {
    "maxAttempts": 3,
    "retryOn": ["no-answer", "customer-busy"],
    "delaySeconds": 60,
    "backoffMultiplier": 2,
}


def test_a_contact_is_retried_at_its_not_before_time_until_max_attempts(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    campaign_id = make_campaign(session, org=org, customers=1, retryPlan=PLAN)
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    for attempt, delay in ((1, 60), (2, 120)):
        (call_id,) = dispatch(session, org=org, now=clock.now)
        end_call(session, call_id=call_id, reason=NO_ANSWER)
        (contact,) = contacts_of(session, campaign_id=campaign_id)
        assert contact.status == ContactStatus.PENDING
        assert contact.attempts == attempt
        assert contact.not_before == clock.now + timedelta(seconds=delay)
        assert counter_drift(session, campaign=campaign_of(session, campaign_id=campaign_id)) == {}
        assert dispatch(session, org=org, now=clock.advance(delay - 1)) == []
        clock.advance(1)
    (call_id,) = dispatch(session, org=org, now=clock.now)
    end_call(session, call_id=call_id, reason=NO_ANSWER)
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    assert contact.status == ContactStatus.FAILED
    assert contact.last_ended_reason == NO_ANSWER
    assert [c.attempt for c in calls_of_contact(session, contact_id=contact.id)] == [1, 2, 3]
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert counter_drift(session, campaign=campaign) == {}


def test_the_final_status_reflects_the_last_attempt(session: Session, clock: ManualClock) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    campaign_id = make_campaign(session, org=org, customers=1, retryPlan=PLAN)
    (call_id,) = dispatch(session, org=org, now=clock.now)
    end_call(session, call_id=call_id, reason="customer-busy")
    (call_id,) = dispatch(session, org=org, now=clock.advance(60))
    end_call(session, call_id=call_id, reason="customer-ended-call")
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    assert contact.status == ContactStatus.COMPLETED
    assert contact.attempts == 2


def test_outcomes_not_listed_are_not_retried(session: Session, clock: ManualClock) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    campaign_id = make_campaign(session, org=org, customers=1, retryPlan=PLAN)
    (call_id,) = dispatch(session, org=org, now=clock.now)
    end_call(session, call_id=call_id, reason="voicemail")
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    assert contact.status == ContactStatus.COMPLETED
    assert contact.attempts == 1


def test_without_a_plan_a_no_answer_is_final(session: Session, clock: ManualClock) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    campaign_id = make_campaign(session, org=org, customers=1)
    (call_id,) = dispatch(session, org=org, now=clock.now)
    end_call(session, call_id=call_id, reason=NO_ANSWER)
    assert contacts_of(session, campaign_id=campaign_id)[0].status == ContactStatus.FAILED


def test_transient_provider_failures_retry_within_a_cap(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    campaign_id = make_campaign(session, org=org, customers=1)
    transient = "call.start.error-vapifault-database-error"
    for delay in (5, 10, 20):
        (call_id,) = dispatch(session, org=org, now=clock.now)
        end_call(session, call_id=call_id, reason=transient)
        (contact,) = contacts_of(session, campaign_id=campaign_id)
        assert contact.status == ContactStatus.PENDING
        assert contact.not_before == clock.now + timedelta(seconds=delay)
        clock.advance(delay)
    (call_id,) = dispatch(session, org=org, now=clock.now)
    end_call(session, call_id=call_id, reason=transient)
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    assert contact.status == ContactStatus.FAILED
    assert contact.attempts == 4
    assert counter_drift(session, campaign=campaign_of(session, campaign_id=campaign_id)) == {}


def test_no_retry_is_planned_past_latest_at(session: Session, clock: ManualClock) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    schedule = {
        "earliestAt": clock.now.isoformat(),
        "latestAt": (clock.now + timedelta(seconds=90)).isoformat(),
    }
    campaign_id = make_campaign(
        session, org=org, customers=1, retryPlan=PLAN, schedulePlan=schedule
    )
    (call_id,) = dispatch(session, org=org, now=clock.now)
    clock.advance(40)  # the retry would be due at 100 s, after latestAt
    end_call(session, call_id=call_id, reason=NO_ANSWER)
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    assert contact.status == ContactStatus.FAILED
    assert campaign_of(session, campaign_id=campaign_id).status == CampaignStatus.ENDED


def test_retries_wait_behind_contacts_due_earlier(session: Session, clock: ManualClock) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org, max_concurrency=1)
    campaign_id = make_campaign(
        session, org=org, customers=3, retryPlan={**PLAN, "delaySeconds": 0}
    )
    first = contacts_of(session, campaign_id=campaign_id)[0]
    (call_id,) = dispatch(session, org=org, now=clock.now)
    clock.advance(1)
    end_call(
        session, call_id=call_id, reason=NO_ANSWER
    )  # due again at once, but after the others were
    order = []
    for _ in range(3):
        (call_id,) = dispatch(session, org=org, now=clock.advance(1))
        call = end_call(session, call_id=call_id, reason="customer-ended-call")
        order.append(call.contact_id)
    contacts = contacts_of(session, campaign_id=campaign_id)
    assert order == [contacts[1].id, contacts[2].id, first.id]
