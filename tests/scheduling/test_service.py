"""Dispatch: claiming due contacts within every limit at once, shared fairly across campaigns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.calls.service import fail_call
from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Call, CallStatus, CampaignStatus, Contact, ContactStatus
from orchestrator.orgs.service import CreatedOrg
from tests.factories import campaign_of, fast_caller_number, make_campaign, make_org
from tests.factories import dispatch as dispatch_now

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # the manual clock's start


def dispatch(session: Session, org: CreatedOrg, now: datetime = NOW) -> list[uuid.UUID]:
    return dispatch_now(session, org=org, now=now)


def claimed_by_campaign(session: Session, call_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    counts: dict[uuid.UUID, int] = {}
    for call in session.scalars(select(Call).where(Call.id.in_(call_ids))):
        assert call.campaign_id is not None
        counts[call.campaign_id] = counts.get(call.campaign_id, 0) + 1
    return counts


def test_claims_in_dial_order_up_to_max_concurrency(session: Session) -> None:
    org = make_org(session, concurrency_limit=50)
    fast_caller_number(session, org=org)
    campaign_id = make_campaign(session, org=org, customers=8, maxConcurrency=3)
    call_ids = dispatch(session, org)
    assert len(call_ids) == 3
    calls = session.scalars(select(Call).where(Call.id.in_(call_ids))).all()
    positions = sorted(
        session.scalars(
            select(Contact.position).where(Contact.id.in_([c.contact_id for c in calls]))
        )
    )
    assert positions == [0, 1, 2]
    assert {c.status for c in calls} == {CallStatus.CLAIMED}
    assert {c.attempt for c in calls} == {1}
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.IN_PROGRESS
    assert (campaign.calls_counter_scheduled, campaign.calls_counter_queued) == (5, 3)
    assert counter_drift(session, campaign=campaign) == {}


def test_second_tick_claims_nothing_while_calls_are_in_flight(session: Session) -> None:
    org = make_org(session, concurrency_limit=50)
    fast_caller_number(session, org=org)
    make_campaign(session, org=org, customers=8, maxConcurrency=3)
    dispatch(session, org)
    assert dispatch(session, org) == []


def test_ended_call_frees_capacity_for_the_next_contact(session: Session) -> None:
    org = make_org(session, concurrency_limit=50)
    fast_caller_number(session, org=org)
    make_campaign(session, org=org, customers=5, maxConcurrency=2)
    first = dispatch(session, org)
    call = session.get(Call, first[0])
    assert call is not None
    fail_call(session, call, reason="provider-rejected", message="test")
    assert len(dispatch(session, org)) == 1


def test_org_capacity_is_shared_fairly_between_its_campaigns(session: Session) -> None:
    org = make_org(session, concurrency_limit=4)
    fast_caller_number(session, org=org)
    fast_caller_number(session, org=org, caller_number_id="p2")
    big = make_campaign(session, org=org, customers=50, maxConcurrency=10)
    small = make_campaign(session, org=org, customers=5, maxConcurrency=10, phone_number_id="p2")
    assert claimed_by_campaign(session, dispatch(session, org)) == {big: 2, small: 2}


def test_other_orgs_are_not_limited_by_this_one(session: Session) -> None:
    org = make_org(session, concurrency_limit=2)
    fast_caller_number(session, org=org)
    make_campaign(session, org=org, customers=10, maxConcurrency=10)
    other = make_org(session, name="other", concurrency_limit=4)
    fast_caller_number(session, org=other)
    make_campaign(session, org=other, customers=10, maxConcurrency=10)
    assert len(dispatch(session, org)) == 2
    assert len(dispatch(session, other)) == 4


def test_calls_outside_campaigns_count_against_the_org_limit(session: Session) -> None:
    org = make_org(session, concurrency_limit=5)
    fast_caller_number(session, org=org)
    make_campaign(session, org=org, customers=10, maxConcurrency=10)
    session.add_all(
        Call(org_id=org.org_id, status=CallStatus.IN_PROGRESS, phone_number_id="x", customer={})
        for _ in range(3)
    )
    session.flush()
    assert len(dispatch(session, org)) == 2


def test_a_numbers_max_concurrency_holds_across_campaigns(session: Session) -> None:
    org = make_org(session, concurrency_limit=50)
    fast_caller_number(session, org=org, max_concurrency=3)
    make_campaign(session, org=org, customers=10, maxConcurrency=10)
    make_campaign(session, org=org, customers=10, maxConcurrency=10)
    assert len(dispatch(session, org)) == 3
    assert dispatch(session, org) == []


def test_a_number_is_claimed_only_a_few_seconds_of_its_rate_ahead(session: Session) -> None:
    org = make_org(session, concurrency_limit=50)
    fast_caller_number(session, org=org, calls_per_second=2)
    make_campaign(session, org=org, customers=20, maxConcurrency=20)
    # Two seconds of lookahead at 2 calls per second; they wait as claimed calls.
    assert len(dispatch(session, org)) == 4
    assert dispatch(session, org) == []


def test_unconfigured_numbers_get_the_default_rate(session: Session) -> None:
    org = make_org(session, concurrency_limit=50)
    make_campaign(session, org=org, customers=20, maxConcurrency=20)
    assert len(dispatch(session, org)) == 2  # 1 call per second, 2 seconds ahead


def test_a_saturated_number_does_not_hold_back_the_others(session: Session) -> None:
    org = make_org(session, concurrency_limit=50)
    fast_caller_number(session, org=org, caller_number_id="slow", max_concurrency=1)
    fast_caller_number(session, org=org, caller_number_id="fast")
    customers = [{"number": f"+1415555{i:04d}"} for i in range(10)]
    make_campaign(
        session,
        org=org,
        customers=[],
        phone_number_id=None,
        dialPlan=[
            {"phoneNumberId": "slow", "customers": customers[:6]},
            {"phoneNumberId": "fast", "customers": customers[6:]},
        ],
    )
    calls = session.scalars(select(Call).where(Call.id.in_(dispatch(session, org)))).all()
    assert sorted(c.phone_number_id or "" for c in calls) == ["fast"] * 4 + ["slow"]


def test_nothing_is_dialed_before_earliest_at(session: Session) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    start = NOW + timedelta(minutes=5)
    campaign_id = make_campaign(session, org=org, schedulePlan={"earliestAt": start.isoformat()})
    assert dispatch(session, org, start - timedelta(microseconds=1)) == []
    assert campaign_of(session, campaign_id=campaign_id).status == CampaignStatus.SCHEDULED
    assert len(dispatch(session, org, start)) == 3
    assert campaign_of(session, campaign_id=campaign_id).started_at == start


def test_nothing_is_dialed_from_latest_at_on(session: Session) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org, max_concurrency=1)
    end = NOW + timedelta(hours=1)
    make_campaign(
        session,
        org=org,
        schedulePlan={"earliestAt": NOW.isoformat(), "latestAt": end.isoformat()},
    )
    assert len(dispatch(session, org, end - timedelta(seconds=1))) == 1
    fast_caller_number(session, org=org, max_concurrency=5)
    assert dispatch(session, org, end) == []


def test_stopped_and_paused_campaigns_are_not_dispatched(session: Session) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    cancelled = make_campaign(session, org=org)
    paused = make_campaign(session, org=org)
    campaign_of(session, campaign_id=cancelled).status = CampaignStatus.CANCELLED
    campaign_of(session, campaign_id=paused).status = CampaignStatus.PAUSED
    session.flush()
    assert dispatch(session, org) == []


def test_campaign_ends_when_every_contact_is_done(session: Session) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    campaign_id = make_campaign(session, org=org, customers=2)
    for call_id in dispatch(session, org):
        call = session.get(Call, call_id)
        assert call is not None
        fail_call(session, call, reason="provider-rejected", message="bad number")
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert campaign.ended_reason == "campaign.ended.success"
    statuses = session.scalars(select(Contact.status).where(Contact.campaign_id == campaign_id))
    assert set(statuses) == {ContactStatus.FAILED}
    assert counter_drift(session, campaign=campaign) == {}
