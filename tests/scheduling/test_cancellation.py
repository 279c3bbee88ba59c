"""Pause, resume and cancel mid-campaign (``PATCH /campaign/{id}``): nothing lost or doubled."""

from __future__ import annotations

import uuid
from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.calls.dialing import begin_dial
from orchestrator.campaigns.counters import counter_drift
from orchestrator.clock import ManualClock
from orchestrator.config import get_settings
from orchestrator.models import Call, CampaignStatus, ContactStatus
from orchestrator.orgs.service import CreatedOrg
from tests.factories import (
    answer_call,
    campaign_of,
    contacts_of,
    dispatch,
    end_call,
    fast_caller_number,
    post_campaign,
)

PLAN = {"maxAttempts": 2, "retryOn": ["no-answer"], "delaySeconds": 30}


def _patch(api: TestClient, auth: dict[str, str], campaign_id: uuid.UUID, status: str) -> dict:  # type: ignore[type-arg]
    response = api.patch(f"/campaign/{campaign_id}", json={"status": status}, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _attempts_per_contact(session: Session, campaign_id: uuid.UUID) -> Counter[uuid.UUID]:
    rows = session.scalars(select(Call.contact_id).where(Call.campaign_id == campaign_id))
    return Counter(contact_id for contact_id in rows if contact_id is not None)


def test_pause_stops_new_dials_lets_calls_finish_and_resume_continues(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session, clock: ManualClock
) -> None:
    fast_caller_number(session, org=org, max_concurrency=3)
    campaign_id = uuid.UUID(post_campaign(api, auth, customers=6, maxConcurrency=3)["id"])
    sent, *unsent = dispatch(session, org=org, now=clock.now)
    answer_call(session, call_id=sent)

    paused = _patch(api, auth, campaign_id, "paused")
    assert paused["status"] == "paused"
    assert paused["pacing"]["waiting"] == {"paused": 5}
    # Claimed calls never reached the provider: they are undone and their contacts wait.
    assert session.scalars(select(Call).where(Call.id.in_(unsent))).all() == []
    assert dispatch(session, org=org, now=clock.advance(5)) == []
    end_call(session, call_id=sent, reason="customer-ended-call")
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.PAUSED
    assert (campaign.contacts_completed, campaign.contacts_pending) == (1, 5)
    assert counter_drift(session, campaign=campaign) == {}

    resumed = _patch(api, auth, campaign_id, "in-progress")
    assert resumed["status"] == "in-progress"
    for _ in range(2):
        for call_id in dispatch(session, org=org, now=clock.advance(1)):
            answer_call(session, call_id=call_id)
            end_call(session, call_id=call_id, reason="customer-ended-call")
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert campaign.contacts_completed == 6
    assert set(_attempts_per_contact(session, campaign_id).values()) == {1}
    assert counter_drift(session, campaign=campaign) == {}


def test_a_call_claimed_before_the_pause_is_not_sent_after_it(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session, clock: ManualClock
) -> None:
    fast_caller_number(session, org=org)
    campaign_id = uuid.UUID(post_campaign(api, auth, customers=1)["id"])
    (call_id,) = dispatch(session, org=org, now=clock.now)
    campaign_of(session, campaign_id=campaign_id).status = CampaignStatus.PAUSED
    session.flush()
    # The worker's compare-and-set wins, then it sees the pause and undoes the claim.
    assert begin_dial(session, call_id=call_id, settings=get_settings()) is None
    assert session.get(Call, call_id) is None
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    assert (contact.status, contact.attempts) == (ContactStatus.PENDING, 0)
    assert counter_drift(session, campaign=campaign_of(session, campaign_id=campaign_id)) == {}


def test_resume_of_a_campaign_that_never_dialed_goes_back_to_scheduled(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    campaign_id = uuid.UUID(post_campaign(api, auth)["id"])
    assert _patch(api, auth, campaign_id, "paused")["status"] == "paused"
    assert _patch(api, auth, campaign_id, "scheduled")["status"] == "scheduled"


def test_resume_is_refused_unless_paused(api: TestClient, auth: dict[str, str]) -> None:
    campaign_id = uuid.UUID(post_campaign(api, auth)["id"])
    response = api.patch(f"/campaign/{campaign_id}", json={"status": "in-progress"}, headers=auth)
    assert response.status_code == 400
    assert "resume a paused campaign" in response.json()["message"][0]
    _patch(api, auth, campaign_id, "paused")
    again = api.patch(f"/campaign/{campaign_id}", json={"status": "paused"}, headers=auth)
    assert again.status_code == 400
    assert again.json()["message"] == ["campaign is already paused"]


def test_cancel_mid_campaign_keeps_every_outcome(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session, clock: ManualClock
) -> None:
    fast_caller_number(session, org=org, max_concurrency=2)
    campaign_id = uuid.UUID(
        post_campaign(api, auth, customers=5, maxConcurrency=2, retryPlan=PLAN)["id"]
    )
    first, second = dispatch(session, org=org, now=clock.now)
    answer_call(session, call_id=first)
    answer_call(session, call_id=second)
    end_call(session, call_id=first, reason="customer-did-not-answer")  # waits for its retry
    _patch(api, auth, campaign_id, "paused")
    cancelled = _patch(api, auth, campaign_id, "cancelled")
    assert cancelled["status"] == "cancelled"
    assert cancelled["endedReason"] == "campaign.in-progress.ended-by-user"
    end_call(session, call_id=second, reason="customer-ended-call")
    statuses = Counter(c.status for c in contacts_of(session, campaign_id=campaign_id))
    assert statuses == {
        ContactStatus.FAILED: 1,
        ContactStatus.COMPLETED: 1,
        ContactStatus.SKIPPED: 3,
    }
    assert dispatch(session, org=org, now=clock.advance(60)) == []
    assert set(_attempts_per_contact(session, campaign_id).values()) == {1}
    assert counter_drift(session, campaign=campaign_of(session, campaign_id=campaign_id)) == {}
