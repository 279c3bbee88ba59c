from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from orchestrator.campaigns import counter_repository
from orchestrator.clock import ManualClock
from orchestrator.models import Campaign, Org
from orchestrator.orgs.service import CreatedOrg
from orchestrator.scheduling.insight import Throughput, estimated_finish
from tests.factories import make_campaign


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
