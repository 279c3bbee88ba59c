"""The us-tcpa profile as the dispatcher applies it: exactly the contacts whose hours are open
are claimed, whether the campaign or its org names the profile; direct calls wait too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from orchestrator.clock import ManualClock
from orchestrator.models import Call, CallStatus, Org
from orchestrator.reasons import WINDOW_CLOSED
from orchestrator.scheduling.direct_dispatch import expire_direct_calls
from orchestrator.scheduling.insight import waiting_reasons
from orchestrator.scheduling.service import dispatch_org
from tests.factories import (
    campaign_of,
    direct_call,
    dispatch,
    fast_caller_number,
    make_campaign,
    make_org,
)
from tests.scheduling.test_service_calling_hours import claimed_names

FLORIDA = {"number": "+13055550100", "name": "florida"}
NEW_YORK = {"number": "+12125550100", "name": "new-york"}
TEXAS = {"number": "+15125550100", "name": "texas"}
ARIZONA = {"number": "+16025550100", "name": "arizona"}
LONDON = {"number": "+442079460000", "name": "london"}
CUSTOMERS = [FLORIDA, NEW_YORK, TEXAS, ARIZONA, LONDON]
TCPA = {"profile": "us-tcpa"}
ALL_DAY = {"windows": [{"days": ["fri", "sat", "sun"], "start": "00:00", "end": "24:00"}]}
# Friday 2026-06-12 20:30 in New York (EDT): 19:30 in Texas, 17:30 in Arizona, 01:30 in London.
FRIDAY_EVENING = datetime(2026, 6, 13, 0, 30, tzinfo=UTC)


def _org_row(session: Session, org_id: uuid.UUID) -> Org:
    org = session.get(Org, org_id)
    assert org is not None
    return org


def test_dispatch_claims_exactly_the_contacts_whose_hours_are_open(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    clock.set(FRIDAY_EVENING)
    campaign_id = make_campaign(session, org=org, customers=CUSTOMERS, callingHours=TCPA)
    # Florida closed at 20:00; London sleeps; the rest are inside 08:00-21:00 and their state's.
    assert claimed_names(session, dispatch(session, org=org, now=clock.now)) == {
        "new-york",
        "texas",
        "arizona",
    }
    waiting = waiting_reasons(
        session,
        campaign=campaign_of(session, campaign_id=campaign_id),
        org=_org_row(session, org.org_id),
        now=clock.now,
    )
    assert waiting == {"callingHours": 2}
    # Saturday 19:59 in Florida, 00:59 on Sunday in London.
    assert claimed_names(
        session, dispatch(session, org=org, now=datetime(2026, 6, 13, 23, 59, tzinfo=UTC))
    ) == {"florida"}
    # Sunday 08:00 in London.
    assert claimed_names(
        session, dispatch(session, org=org, now=datetime(2026, 6, 14, 7, tzinfo=UTC))
    ) == {"london"}


def test_texas_waits_for_sunday_noon(session: Session, clock: ManualClock) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    sunday_ten = datetime(2026, 6, 14, 15, tzinfo=UTC)  # 10:00 in Texas, 11:00 in New York
    clock.set(sunday_ten)
    make_campaign(session, org=org, customers=[TEXAS, NEW_YORK], callingHours=TCPA)
    assert claimed_names(session, dispatch(session, org=org, now=clock.now)) == {"new-york"}
    noon = datetime(2026, 6, 14, 17, tzinfo=UTC)
    assert dispatch(session, org=org, now=noon - timedelta(seconds=1)) == []
    assert claimed_names(session, dispatch(session, org=org, now=noon)) == {"texas"}


def test_the_org_profile_applies_to_campaigns_without_hours(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session, policy={"callingHoursProfile": "us-tcpa"})
    fast_caller_number(session, org=org)
    clock.set(FRIDAY_EVENING)
    make_campaign(session, org=org, customers=[FLORIDA, NEW_YORK])
    assert claimed_names(session, dispatch(session, org=org, now=clock.now)) == {"new-york"}


def test_the_org_profile_is_a_floor_under_a_campaigns_own_windows(
    session: Session, clock: ManualClock
) -> None:
    clock.set(FRIDAY_EVENING)
    strict = make_org(session, policy={"callingHoursProfile": "us-tcpa"})
    fast_caller_number(session, org=strict)
    make_campaign(session, org=strict, customers=[FLORIDA, LONDON], callingHours=ALL_DAY)
    assert dispatch(session, org=strict, now=clock.now) == []
    # Without the org's profile the campaign's windows alone decide.
    lax = make_org(session, name="lax")
    fast_caller_number(session, org=lax)
    make_campaign(session, org=lax, customers=[FLORIDA, LONDON], callingHours=ALL_DAY)
    assert claimed_names(session, dispatch(session, org=lax, now=clock.now)) == {
        "florida",
        "london",
    }


def test_the_org_profile_outranks_the_default_policy(session: Session, clock: ManualClock) -> None:
    org = make_org(session, policy={"callingHoursProfile": "us-tcpa"})
    _org_row(session, org.org_id).default_calling_hours = True
    fast_caller_number(session, org=org)
    clock.set(FRIDAY_EVENING)
    make_campaign(session, org=org, customers=[FLORIDA])
    # The default policy alone would call Florida until 21:00.
    assert dispatch(session, org=org, now=clock.now) == []


def test_a_direct_call_waits_for_its_recipients_hours_under_the_org_profile(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session, policy={"callingHoursProfile": "us-tcpa"})
    fast_caller_number(session, org=org)
    clock.set(FRIDAY_EVENING)
    florida = direct_call(session, org=org, customer={"number": FLORIDA["number"]})
    new_york = direct_call(session, org=org, customer={"number": NEW_YORK["number"]})
    result = dispatch_org(session, org_id=org.org_id, now=clock.now, batch_limit=500)
    assert result.direct_call_ids == [new_york]
    waiting = session.get(Call, florida, populate_existing=True)
    assert waiting is not None
    assert waiting.status == CallStatus.SCHEDULED
    opening = datetime(2026, 6, 13, 12, tzinfo=UTC)  # Saturday 08:00 in Florida
    assert waiting.not_before == opening
    assert dispatch(session, org=org, now=opening - timedelta(seconds=1)) == []
    assert dispatch(session, org=org, now=opening) == [florida]


def test_a_direct_call_whose_latest_time_comes_first_ends_unsent(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session, policy={"callingHoursProfile": "us-tcpa"})
    fast_caller_number(session, org=org)
    clock.set(FRIDAY_EVENING)
    latest = FRIDAY_EVENING + timedelta(hours=2)
    call_id = direct_call(
        session, org=org, customer={"number": FLORIDA["number"]}, not_after=latest
    )
    assert dispatch(session, org=org, now=clock.now) == []
    assert expire_direct_calls(session, now=latest) == 1
    call = session.get(Call, call_id, populate_existing=True)
    assert call is not None
    assert (call.status, call.ended_reason) == (CallStatus.FAILED, WINDOW_CLOSED)
