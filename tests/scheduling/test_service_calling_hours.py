"""Calling hours in each customer's local time, as the scheduler applies them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.clock import ManualClock
from orchestrator.models import Call, Contact, ContactStatus, Org
from orchestrator.orgs.service import CreatedOrg
from orchestrator.scheduling.insight import waiting_reasons
from tests.factories import campaign_of, dispatch, fast_caller_number, make_campaign, make_org

NEW_YORK = {"number": "+12125550100", "name": "new-york"}
LONDON = {"number": "+442079460000", "name": "london"}
SYDNEY = {"number": "+61291234567", "name": "sydney"}
# A Chicago number whose owner lives in India: the given zone wins over the number's region.
KOLKATA = {"number": "+13125550100", "name": "kolkata", "timezone": "Asia/Kolkata"}
DAYTIME = {
    "windows": [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "09:00",
            "end": "20:00",
        }
    ],
    "timezone": "contact",
}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def claimed_names(session: Session, call_ids: list[uuid.UUID]) -> set[str]:
    calls = session.scalars(select(Call).where(Call.id.in_(call_ids)))
    return {str(call.customer["name"]) for call in calls}


def _campaign(session: Session, org: CreatedOrg, **extra: object) -> uuid.UUID:
    fast_caller_number(session, org=org)
    return make_campaign(session, org=org, customers=[NEW_YORK, LONDON, SYDNEY, KOLKATA], **extra)


def test_contacts_are_zoned_by_number_region_or_their_own_timezone(session: Session) -> None:
    org = make_org(session)
    campaign_id = _campaign(session, org, callingHours=DAYTIME)
    zones = dict(
        session.execute(
            select(Contact.number, Contact.zone_key).where(Contact.campaign_id == campaign_id)
        ).all()
    )
    # US numbers add their state, from the area code, whoever gave the zone.
    assert zones == {
        NEW_YORK["number"]: "America/New_York|NY",
        LONDON["number"]: "Europe/London",
        SYDNEY["number"]: "Australia/Sydney",
        KOLKATA["number"]: "Asia/Kolkata|IL",
    }


def test_only_contacts_inside_their_local_hours_are_dialed_across_a_dst_change(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session)
    clock.set(utc("2026-03-07T13:30:00"))
    campaign_id = _campaign(session, org, callingHours=DAYTIME)
    # Saturday 13:30 UTC: New York is 08:30 (EST), Sydney 00:30, London 13:30, Kolkata 19:00.
    assert claimed_names(session, dispatch(session, org=org, now=clock.now)) == {
        "london",
        "kolkata",
    }
    campaign = campaign_of(session, campaign_id=campaign_id)
    org_row = session.get(Org, org.org_id)
    assert org_row is not None
    assert waiting_reasons(session, campaign=campaign, org=org_row, now=clock.now) == {
        "callingHours": 2
    }
    # The same UTC time on Sunday, after the spring-forward: New York is 09:30 (EDT).
    clock.set(utc("2026-03-08T13:30:00"))
    assert claimed_names(session, dispatch(session, org=org, now=clock.now)) == {"new-york"}
    # Sydney opens at 09:00 on Monday its time (AEDT, UTC+11), 22:00 UTC on Sunday.
    assert dispatch(session, org=org, now=utc("2026-03-08T21:59:59")) == []
    assert claimed_names(session, dispatch(session, org=org, now=utc("2026-03-08T22:00:00"))) == {
        "sydney"
    }


def test_contacts_outside_their_hours_wait_and_are_not_skipped(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session)
    clock.set(utc("2026-03-07T12:00:00"))  # a Saturday in every one of the zones
    mondays = {**DAYTIME, "windows": [{"days": ["mon"], "start": "09:00", "end": "20:00"}]}
    campaign_id = _campaign(session, org, callingHours=mondays)
    assert dispatch(session, org=org, now=clock.now) == []
    statuses = session.scalars(select(Contact.status).where(Contact.campaign_id == campaign_id))
    assert set(statuses) == {ContactStatus.PENDING}


def test_a_fixed_zone_applies_to_every_contact(session: Session, clock: ManualClock) -> None:
    org = make_org(session)
    hours = {**DAYTIME, "timezone": "Europe/London"}
    _campaign(session, org, callingHours=hours)
    assert dispatch(session, org=org, now=utc("2026-03-07T08:59:00")) == []
    assert len(dispatch(session, org=org, now=utc("2026-03-07T09:00:00"))) == 4


def test_the_org_default_policy_applies_when_switched_on(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session)
    _campaign(session, org)
    org_row = session.get(Org, org.org_id)
    assert org_row is not None
    org_row.default_calling_hours = True
    session.flush()
    # 07:30 in London, 02:30 in New York, 18:30 in Sydney, 13:00 in Kolkata (08:00-21:00 policy).
    assert claimed_names(session, dispatch(session, org=org, now=utc("2026-03-09T07:30:00"))) == {
        "sydney",
        "kolkata",
    }
    org_row.default_calling_hours = False
    session.flush()
    assert claimed_names(session, dispatch(session, org=org, now=utc("2026-03-09T07:30:01"))) == {
        "new-york",
        "london",
    }
