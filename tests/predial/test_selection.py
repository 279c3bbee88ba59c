"""Which contacts a dispatch asks about: due, unasked, open, and never more than
``maxConcurrency`` checked or cleared at once per campaign; and the claim takes only those
cleared for this attempt."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.clock import ManualClock
from orchestrator.config import get_settings
from orchestrator.models import Call, Campaign, CampaignStatus, Contact, ContactStatus, Org
from orchestrator.orgs.service import CreatedOrg
from orchestrator.predial.selection import QUEUE_WAIT
from orchestrator.predial.service import CLEARED_FOR
from orchestrator.predial.verdicts import Outcome
from orchestrator.scheduling.insight import waiting_reasons
from tests.factories import (
    calling_window,
    contacts_of,
    dispatch_now,
    fast_caller_number,
    force_campaign,
    make_campaign,
    predial_campaign,
    run_checks,
)
from tests.support.user_server import Received, Reply, UserServer, running_user_server

ELIGIBLE = Reply.json({"eligible": True})


@pytest.fixture
def server() -> Iterator[UserServer]:
    with running_user_server(lambda _: ELIGIBLE) as running:
        yield running


@pytest.fixture(autouse=True)
def _frozen(clock: ManualClock) -> ManualClock:
    return clock


def calls_of(session: Session, campaign_id: uuid.UUID) -> int:
    stmt = select(func.count()).select_from(Call).where(Call.campaign_id == campaign_id)
    return int(session.scalar(stmt) or 0)


def test_a_first_dispatch_claims_nothing_and_asks_about_max_concurrency_contacts_in_order(
    session: Session, org: CreatedOrg, server: UserServer
) -> None:
    campaign_id = predial_campaign(session, org=org, url=server.url, customers=7, maxConcurrency=3)

    result = dispatch_now(session, org=org)

    assert result.call_ids == [] and calls_of(session, campaign_id) == 0
    contacts = contacts_of(session, campaign_id=campaign_id)
    assert [c.contact_id for c in result.checks] == [c.id for c in contacts[:3]]
    assert [c.predial_state for c in contacts] == ["checking"] * 3 + [None] * 4
    assert all(c.status == ContactStatus.PENDING for c in contacts)
    assert dispatch_now(session, org=org).checks == [], "three checks are under way"


def test_checks_waiting_on_one_server_are_capped_below_a_large_max_concurrency(
    session: Session, org: CreatedOrg, server: UserServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each waiting check holds an outbound thread: a dead server holds only so many."""
    monkeypatch.setenv("ORCH_PREDIAL_MAX_CHECKS_PER_CAMPAIGN", "4")
    get_settings.cache_clear()
    try:
        campaign_id = predial_campaign(
            session, org=org, url=server.url, customers=30, maxConcurrency=20
        )
        first = dispatch_now(session, org=org).checks
        assert len(first) == 4
        assert dispatch_now(session, org=org).checks == [], "four checks are under way"
        run_checks(session, first)
        # Cleared contacts wait for their claim without holding a thread: four more are asked.
        assert len(dispatch_now(session, org=org).checks) == 4
        contacts = contacts_of(session, campaign_id=campaign_id)
        assert sum(c.predial_state == "checking" for c in contacts) == 4
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_cleared_contacts_are_claimed_and_their_room_asked_about_again(
    session: Session, org: CreatedOrg, server: UserServer
) -> None:
    campaign_id = predial_campaign(session, org=org, url=server.url, customers=5, maxConcurrency=2)
    first = dispatch_now(session, org=org).checks
    dispatched: list[uuid.UUID] = []
    assert run_checks(session, first, dispatched=dispatched) == [Outcome.CLEARED] * 2
    assert dispatched == [org.org_id] * 2, "a cleared contact has its org dispatched at once"

    second = dispatch_now(session, org=org)

    assert len(second.call_ids) == 2
    contacts = contacts_of(session, campaign_id=campaign_id)
    assert [c.status for c in contacts[:2]] == [ContactStatus.DISPATCHED] * 2
    assert [c.predial_state for c in contacts[:2]] == [None, None], "the claim consumed them"
    assert [c.contact_id for c in second.checks] == [c.id for c in contacts[2:4]]


def test_a_lapsed_check_is_asked_again_with_a_new_lease(
    session: Session, org: CreatedOrg, server: UserServer, clock: ManualClock
) -> None:
    predial_campaign(session, org=org, url=server.url, customers=1, maxConcurrency=1)
    (lost,) = dispatch_now(session, org=org).checks
    clock.advance((QUEUE_WAIT + timedelta(seconds=21)).total_seconds())

    (again,) = dispatch_now(session, org=org).checks

    assert again.contact_id == lost.contact_id and again.lease_until > lost.lease_until
    assert run_checks(session, [lost]) == [Outcome.IGNORED], "the lost task's lease is gone"
    assert run_checks(session, [again]) == [Outcome.CLEARED]
    assert len(server.received) == 1


def test_a_cleared_contact_not_claimed_in_time_is_asked_again(
    session: Session, org: CreatedOrg, server: UserServer, clock: ManualClock
) -> None:
    campaign_id = predial_campaign(session, org=org, url=server.url, customers=1)
    run_checks(session, dispatch_now(session, org=org).checks)
    force_campaign(session, campaign_id=str(campaign_id), status=CampaignStatus.PAUSED)
    clock.advance(CLEARED_FOR.total_seconds() + 1)
    force_campaign(session, campaign_id=str(campaign_id), status=CampaignStatus.IN_PROGRESS)

    result = dispatch_now(session, org=org)

    assert result.call_ids == [] and len(result.checks) == 1


def test_no_checks_while_paused_or_outside_calling_hours(
    session: Session, org: CreatedOrg, server: UserServer, clock: ManualClock
) -> None:
    paused = predial_campaign(session, org=org, url=server.url, customers=2)
    force_campaign(session, campaign_id=str(paused), status=CampaignStatus.PAUSED)
    hour = clock.now.hour
    closed_hours = {
        "windows": [calling_window(f"{(hour + 2) % 24:02d}:00", f"{(hour + 3) % 24:02d}:00")],
        "timezone": "UTC",
    }
    predial_campaign(session, org=org, url=server.url, customers=2, callingHours=closed_hours)

    assert dispatch_now(session, org=org).checks == []


def test_a_campaign_without_an_enabled_plan_is_claimed_unasked(
    session: Session, org: CreatedOrg, server: UserServer
) -> None:
    disabled = make_campaign(
        session,
        org=org,
        customers=2,
        server={"url": server.url},
        predialPlan={"enabled": False},
    )
    plain = make_campaign(session, org=org, customers=2, phone_number_id="phone-2")
    fast_caller_number(session, org=org)
    fast_caller_number(session, org=org, caller_number_id="phone-2")

    result = dispatch_now(session, org=org)

    assert result.checks == []
    assert set(result.calls_by_campaign) == {disabled, plain}
    assert server.received == []


def test_a_check_records_no_call_and_a_refused_contact_never_gets_one(
    session: Session, org: CreatedOrg
) -> None:
    def answer(request: Received) -> Reply:
        return Reply.json({"eligible": request.message["contact"]["number"].endswith("0")})

    with running_user_server(answer) as server:
        campaign_id = predial_campaign(session, org=org, url=server.url, customers=2)
        outcomes = run_checks(session, dispatch_now(session, org=org).checks)
        assert outcomes == [Outcome.CLEARED, Outcome.REFUSED]
        claimed = dispatch_now(session, org=org).call_ids
    contacts = contacts_of(session, campaign_id=campaign_id)
    calls = session.scalars(select(Call).where(Call.id.in_(claimed))).all()
    assert [call.contact_id for call in calls] == [contacts[0].id]
    assert contacts[1].status == ContactStatus.SKIPPED
    assert session.scalar(select(func.count()).where(Call.contact_id == contacts[1].id)) == 0
    assert session.get(Contact, contacts[1].id) is not None


def test_the_pacing_insight_counts_contacts_waiting_for_their_check(
    session: Session, org: CreatedOrg, server: UserServer, clock: ManualClock
) -> None:
    campaign_id = predial_campaign(session, org=org, url=server.url, customers=7, maxConcurrency=3)
    campaign = session.get_one(Campaign, campaign_id)
    org_row = session.get_one(Org, org.org_id)

    def waiting() -> dict[str, int]:
        return waiting_reasons(session, campaign=campaign, org=org_row, now=clock())

    assert waiting() == {"predialCheck": 7}
    run_checks(session, dispatch_now(session, org=org).checks)
    # Three cleared, waiting for a claim (capacity or a rate slot); four still to be checked.
    reasons = waiting()
    assert reasons["predialCheck"] == 4
    assert reasons.get("rate", 0) + reasons.get("concurrency", 0) == 3
