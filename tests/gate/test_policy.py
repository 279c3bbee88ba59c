"""A legal profile's limits on one subject are caps of the gate: Florida's 3 attempts per
24 hours count one campaign's attempts, not the org's other campaigns'."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from orchestrator.models import ContactStatus, Org
from orchestrator.reasons import FREQUENCY_CAP
from tests.factories import (
    contacts_of,
    dispatch,
    fast_caller_number,
    make_campaign,
    make_org,
    record_attempt,
)

# The manual clock's start, Monday 2026-03-02 10:00 in Miami and 09:00 in Austin: open
# under us-tcpa in both.
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
FLORIDA = "+13052001234"
TEXAS = "+15122001234"


@pytest.mark.usefixtures("clock")
def test_a_florida_number_takes_three_attempts_a_day_per_campaign_under_us_tcpa(
    session: Session,
) -> None:
    org = make_org(
        session,
        name=f"profile-caps-{uuid.uuid4()}",
        concurrency_limit=50,
        policy={"callingHoursProfile": "us-tcpa"},
    )
    fast_caller_number(session, org=org)
    customers = [{"number": FLORIDA}, {"number": TEXAS}]
    first = make_campaign(session, org=org, customers=customers)
    second = make_campaign(session, org=org, customers=[{"number": FLORIDA}])
    oldest = NOW - timedelta(hours=20)
    for at in (oldest, NOW - timedelta(hours=2), NOW - timedelta(hours=1)):
        for number in (FLORIDA, TEXAS):
            record_attempt(session, org=org, number=number, at=at, campaign_id=first)

    claimed = dispatch(session, org=org, now=NOW)

    florida, texas = contacts_of(session, campaign_id=first)
    assert (florida.status, florida.deferral) == (ContactStatus.PENDING, FREQUENCY_CAP)
    assert florida.not_before == oldest + timedelta(days=1)
    assert texas.status == ContactStatus.DISPATCHED, "Texas sets no attempt limit"
    (other,) = contacts_of(session, campaign_id=second)
    assert other.status == ContactStatus.DISPATCHED, "another campaign is another subject"
    assert len(claimed) == 2


@pytest.mark.usefixtures("clock")
def test_without_a_profile_a_campaign_sets_no_caps_of_its_own(session: Session) -> None:
    org = make_org(session, name=f"no-profile-{uuid.uuid4()}", concurrency_limit=50)
    fast_caller_number(session, org=org)
    campaign_id = make_campaign(session, org=org, customers=[{"number": FLORIDA}])
    for hours in (3, 2, 1):
        record_attempt(
            session,
            org=org,
            number=FLORIDA,
            at=NOW - timedelta(hours=hours),
            campaign_id=campaign_id,
        )
    assert session.get_one(Org, org.org_id).policy.get("callingHoursProfile") is None
    assert len(dispatch(session, org=org, now=NOW)) == 1
