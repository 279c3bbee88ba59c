"""Closing the schedule window at ``latestAt``: skip the never-dialed, let calls in flight end."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from orchestrator.calls.service import move_call
from orchestrator.campaigns.counters import counter_drift
from orchestrator.clock import ManualClock
from orchestrator.models import Call, CallStatus, CampaignStatus, ContactStatus, TextStatus
from orchestrator.reasons import WINDOW_CLOSED
from orchestrator.scheduling.window import close_window
from orchestrator.texts import repository as texts_repo
from orchestrator.texts.sending import record_refused
from tests.factories import (
    campaign_of,
    contacts_of,
    dispatch,
    end_call,
    fast_caller_number,
    make_campaign,
    make_org,
)
from tests.factories.texts import sms_campaign_texts


def test_at_latest_at_the_never_dialed_are_skipped_and_calls_in_flight_finish(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org, max_concurrency=2)
    end = clock.now + timedelta(minutes=30)
    schedule = {"earliestAt": clock.now.isoformat(), "latestAt": end.isoformat()}
    campaign_id = make_campaign(session, org=org, customers=5, schedulePlan=schedule)
    in_flight, unsent = dispatch(session, org=org, now=clock.now)
    dialed = session.get(Call, in_flight)
    assert dialed is not None
    move_call(session, dialed, CallStatus.IN_PROGRESS)  # the provider has this one

    assert not close_window(session, campaign_id=campaign_id, now=end - timedelta(seconds=1))
    assert close_window(session, campaign_id=campaign_id, now=end)

    contacts = contacts_of(session, campaign_id=campaign_id)
    assert [c.status for c in contacts] == [ContactStatus.DISPATCHED] + [ContactStatus.SKIPPED] * 4
    assert {c.status_reason for c in contacts[1:]} == {WINDOW_CLOSED}
    released = session.get(Call, unsent, populate_existing=True)
    assert released is not None
    assert released.status == CallStatus.FAILED
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.IN_PROGRESS
    assert counter_drift(session, campaign=campaign) == {}

    end_call(session, call_id=in_flight, reason="customer-ended-call")
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert campaign.contacts_completed == 1
    assert campaign.contacts_skipped == 4
    assert counter_drift(session, campaign=campaign) == {}


def test_a_contact_waiting_for_a_retry_ends_as_its_last_attempt(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    end = clock.now + timedelta(minutes=30)
    schedule = {"earliestAt": clock.now.isoformat(), "latestAt": end.isoformat()}
    plan = {"maxAttempts": 5, "retryOn": ["no-answer"], "delaySeconds": 60}
    campaign_id = make_campaign(
        session, org=org, customers=1, schedulePlan=schedule, retryPlan=plan
    )
    (call_id,) = dispatch(session, org=org, now=clock.now)
    end_call(session, call_id=call_id, reason="customer-did-not-answer")
    assert contacts_of(session, campaign_id=campaign_id)[0].status == ContactStatus.PENDING
    close_window(session, campaign_id=campaign_id, now=end)
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    assert contact.status == ContactStatus.FAILED
    assert contact.last_ended_reason == "customer-did-not-answer"
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert counter_drift(session, campaign=campaign) == {}


def test_a_campaign_whose_window_passed_before_it_started_ends_with_all_skipped(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session)
    schedule = {
        "earliestAt": (clock.now - timedelta(hours=2)).isoformat(),
        "latestAt": (clock.now - timedelta(hours=1)).isoformat(),
    }
    campaign_id = make_campaign(session, org=org, customers=3, schedulePlan=schedule)
    assert dispatch(session, org=org, now=clock.now) == []
    assert close_window(session, campaign_id=campaign_id, now=clock.now)
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert campaign.contacts_skipped == 3
    assert counter_drift(session, campaign=campaign) == {}


def test_at_latest_at_queued_texts_are_withdrawn_and_texts_being_sent_finish(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session)
    end = clock.now + timedelta(minutes=30)
    schedule = {"earliestAt": clock.now.isoformat(), "latestAt": end.isoformat()}
    campaign_id, texts = sms_campaign_texts(
        session, org=org, customers=3, now=clock.now, schedulePlan=schedule
    )
    texts[0].delivery_status = TextStatus.SENDING
    session.flush()

    assert close_window(session, campaign_id=campaign_id, now=end)

    for text in texts[1:]:
        session.refresh(text)
        assert (text.delivery_status, text.delivery_reason) == (TextStatus.FAILED, WINDOW_CLOSED)
    due = texts_repo.claim_due_texts(session, now=end, lease_until=end, limit=100)
    assert due == []
    contacts = {c.id: c for c in contacts_of(session, campaign_id=campaign_id)}
    assert [contacts[t.contact_id].status for t in texts if t.contact_id] == [
        ContactStatus.DISPATCHED,
        ContactStatus.SKIPPED,
        ContactStatus.SKIPPED,
    ]
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.IN_PROGRESS
    assert counter_drift(session, campaign=campaign) == {}

    record_refused(session, chat=texts[0], message="not SMS enabled", now=end)
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert (campaign.contacts_failed, campaign.contacts_skipped) == (1, 2)
    assert counter_drift(session, campaign=campaign) == {}
