from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from orchestrator.campaigns import counter_repository
from orchestrator.clock import ManualClock
from orchestrator.models import Campaign, Org
from orchestrator.orgs.service import CreatedOrg
from orchestrator.scheduling.insight import Throughput, estimated_finish, waiting_reasons
from tests.factories import (
    customer_numbers,
    dispatch,
    fast_caller_number,
    make_campaign,
    record_attempt,
    set_caps,
)


def _finish(session: Session, org: CreatedOrg, now: datetime, *, rate: float) -> datetime | None:
    campaign = session.get_one(Campaign, make_campaign(session, org=org, customers=5))
    return estimated_finish(
        campaign=campaign,
        org=session.get_one(Org, org.org_id),
        throughput=Throughput(rate, concurrency_bound=False, average_call_seconds=60.0),
        now=now,
        counters=counter_repository.counters_of(session, campaign_ids=[campaign.id])[campaign.id],
    )


def test_the_finish_is_the_remaining_contacts_at_the_sustainable_rate(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    finish = _finish(session, org, clock.now, rate=1.0)
    assert finish is not None
    assert (finish - clock.now).total_seconds() == 5 + 60


def test_a_rate_so_slow_the_finish_lies_past_the_calendar_gives_no_estimate(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    assert _finish(session, org, clock.now, rate=1e-300) is None


def test_contacts_held_back_by_the_frequency_caps_are_counted_as_such(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    fast_caller_number(session, org=org)
    set_caps(session, org=org, caps=[(1, 86_400)])
    numbers = customer_numbers(3)
    for number in numbers[:2]:
        record_attempt(session, org=org, number=number, at=clock.now - timedelta(hours=1))
    campaign = session.get_one(Campaign, make_campaign(session, org=org, customers=3))
    assert len(dispatch(session, org=org, now=clock.now)) == 1
    reasons = waiting_reasons(
        session, campaign=campaign, org=session.get_one(Org, org.org_id), now=clock.now
    )
    assert reasons == {"frequencyCap": 2}
    # Once their allowance frees they are due again: no longer waiting on the caps.
    later = clock.now + timedelta(days=1)
    reasons = waiting_reasons(
        session, campaign=campaign, org=session.get_one(Org, org.org_id), now=later
    )
    assert "frequencyCap" not in reasons and sum(reasons.values()) == 2
