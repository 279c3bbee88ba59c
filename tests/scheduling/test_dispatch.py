"""Dispatch: claiming due contacts within the campaign's and the org's limits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.calls.service import fail_call
from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Call, CallStatus, Campaign, CampaignStatus, Contact, ContactStatus
from orchestrator.scheduling.service import dispatch_campaign
from tests.factories import make_campaign, make_org

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _dispatch(session: Session, campaign_id: uuid.UUID, now: datetime = NOW) -> list[uuid.UUID]:
    return dispatch_campaign(session, campaign_id=campaign_id, now=now, batch_limit=500).call_ids


def _campaign(session: Session, campaign_id: uuid.UUID) -> Campaign:
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    assert campaign is not None
    return campaign


def test_claims_in_dial_order_up_to_max_concurrency(session: Session) -> None:
    org = make_org(session, concurrency_limit=50)
    campaign_id = make_campaign(session, org=org, customers=8, maxConcurrency=3)
    call_ids = _dispatch(session, campaign_id)
    assert len(call_ids) == 3
    calls = session.scalars(select(Call).where(Call.id.in_(call_ids))).all()
    positions = sorted(
        session.scalars(
            select(Contact.position).where(Contact.id.in_([c.contact_id for c in calls]))
        )
    )
    assert positions == [0, 1, 2]
    assert {c.status for c in calls} == {CallStatus.CLAIMED}
    campaign = _campaign(session, campaign_id)
    assert campaign.status == CampaignStatus.IN_PROGRESS
    assert (campaign.calls_counter_scheduled, campaign.calls_counter_queued) == (5, 3)
    assert counter_drift(session, campaign=campaign) == {}


def test_second_tick_claims_nothing_while_calls_are_in_flight(session: Session) -> None:
    org = make_org(session, concurrency_limit=50)
    campaign_id = make_campaign(session, org=org, customers=8, maxConcurrency=3)
    _dispatch(session, campaign_id)
    assert _dispatch(session, campaign_id) == []


def test_ended_call_frees_capacity_for_the_next_contact(session: Session) -> None:
    org = make_org(session, concurrency_limit=50)
    campaign_id = make_campaign(session, org=org, customers=5, maxConcurrency=2)
    first = _dispatch(session, campaign_id)
    call = session.get(Call, first[0])
    assert call is not None
    fail_call(session, call, reason="provider-rejected", message="test")
    assert len(_dispatch(session, campaign_id)) == 1


def test_org_limit_is_shared_by_all_campaigns_of_the_org(session: Session) -> None:
    org = make_org(session, concurrency_limit=4)
    first = make_campaign(session, org=org, customers=10, maxConcurrency=3)
    second = make_campaign(session, org=org, customers=10, maxConcurrency=3, phone_number_id="p2")
    assert len(_dispatch(session, first)) == 3
    assert len(_dispatch(session, second)) == 1
    other_org = make_org(session, name="other", concurrency_limit=4)
    third = make_campaign(session, org=other_org, customers=10, maxConcurrency=3)
    assert len(_dispatch(session, third)) == 3


def test_nothing_is_dialed_before_earliest_at(session: Session) -> None:
    org = make_org(session)
    later = (NOW + timedelta(minutes=5)).isoformat()
    campaign_id = make_campaign(session, org=org, schedulePlan={"earliestAt": later})
    assert _dispatch(session, campaign_id) == []
    assert _campaign(session, campaign_id).status == CampaignStatus.SCHEDULED
    assert len(_dispatch(session, campaign_id, NOW + timedelta(minutes=5))) == 3


def test_stopped_campaign_is_not_dispatched(session: Session) -> None:
    org = make_org(session)
    campaign_id = make_campaign(session, org=org)
    _campaign(session, campaign_id).status = CampaignStatus.CANCELLED
    session.flush()
    assert _dispatch(session, campaign_id) == []


def test_campaign_ends_when_every_contact_is_done(session: Session) -> None:
    org = make_org(session)
    campaign_id = make_campaign(session, org=org, customers=2)
    for call_id in _dispatch(session, campaign_id):
        call = session.get(Call, call_id)
        assert call is not None
        fail_call(session, call, reason="provider-rejected", message="bad number")
    campaign = _campaign(session, campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert campaign.ended_reason == "campaign.ended.success"
    statuses = session.scalars(select(Contact.status).where(Contact.campaign_id == campaign_id))
    assert set(statuses) == {ContactStatus.FAILED}
    assert counter_drift(session, campaign=campaign) == {}
