"""Why the dispatch leaves due contacts waiting, recorded once per reason change at a bounded
cost: the front of each group whose calling hours are closed, and the candidates it read but
could not claim, each under the limit that held it back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.service import record_provider_call
from orchestrator.clock import ManualClock
from orchestrator.config import get_settings
from orchestrator.decisions.decision import DeferralReason
from orchestrator.models import Call, Contact, ContactDecision
from orchestrator.orgs.service import CreatedOrg
from orchestrator.scheduling.capacity import (
    CallerNumberLoad,
    CallerNumberPacing,
    CampaignDemand,
    Candidate,
    HeldBy,
    allocate,
    caller_number_limit,
    held_back,
)
from orchestrator.scheduling.service import dispatch_org
from tests.factories import (
    campaign_decisions,
    contacts_of,
    customer_numbers,
    decisions_of,
    dispatch,
    end_call,
    fast_caller_number,
    kinds_of,
    make_campaign,
    make_org,
)

EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
NEW_YORK_DAYTIME = {
    "windows": [{"days": EVERY_DAY, "start": "09:00", "end": "20:00"}],
    "timezone": "America/New_York",
}
# 03:00 in New York (EST): closed until 09:00, 14:00 UTC.
NIGHT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
OPENING = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def _candidates(prefix: int, caller: str, count: int) -> list[Candidate]:
    return [Candidate(uuid.UUID(int=prefix * 100 + i), caller) for i in range(count)]


# --- which limit held a candidate back (pure) --------------------------------------------------


def test_each_candidate_left_is_held_by_its_caller_number_its_campaign_or_the_org() -> None:
    a = CampaignDemand(uuid.UUID(int=1), 0, 2, _candidates(1, "p1", 3) + _candidates(2, "p2", 1))
    b = CampaignDemand(uuid.UUID(int=2), 0, 10, _candidates(3, "p1", 2) + _candidates(4, "p3", 3))
    free: dict[str | None, int] = {"p1": 2, "p2": 5, "p3": 5}
    chosen = allocate([a, b], org_free=4, caller_number_free=free)
    assert [len(chosen[d.campaign_id]) for d in (a, b)] == [2, 2]

    limits: dict[str | None, HeldBy] = {"p1": HeldBy.PHONE_NUMBER_CONCURRENCY}
    held = held_back(
        [a, b], chosen, org_free=4, caller_number_free=free, caller_number_limits=limits
    )

    # Turns alternate: a takes 100 (p1), b 300 (p1, its last slot), a passes over 101 and
    # 102 for 200 (p2) and is full, b passes over 301 for 400 (p3): the org's four are gone.
    assert {c.id for c in chosen[a.campaign_id]} == {uuid.UUID(int=100), uuid.UUID(int=200)}
    assert held == {
        uuid.UUID(int=101): HeldBy.PHONE_NUMBER_CONCURRENCY,
        uuid.UUID(int=102): HeldBy.PHONE_NUMBER_CONCURRENCY,
        uuid.UUID(int=301): HeldBy.PHONE_NUMBER_CONCURRENCY,
        uuid.UUID(int=401): HeldBy.ORG,
        uuid.UUID(int=402): HeldBy.ORG,
    }
    assert not set(held) & {c.id for picks in chosen.values() for c in picks}


def test_candidates_only_the_dispatchs_batch_left_are_next_in_line_not_held() -> None:
    demand = CampaignDemand(uuid.UUID(int=1), 0, 10, _candidates(1, "p1", 4))
    free: dict[str | None, int] = {"p1": 10}
    chosen = allocate([demand], org_free=2, caller_number_free=free)
    assert len(chosen[demand.campaign_id]) == 2
    by_batch = held_back(
        [demand],
        chosen,
        org_free=2,
        caller_number_free=free,
        org_binds=False,
        caller_number_limits={},
    )
    assert by_batch == {}
    by_org = held_back(
        [demand], chosen, org_free=2, caller_number_free=free, caller_number_limits={}
    )
    assert by_org == {uuid.UUID(int=102): HeldBy.ORG, uuid.UUID(int=103): HeldBy.ORG}


def test_a_caller_number_not_named_in_the_limits_holds_by_its_rate() -> None:
    demand = CampaignDemand(uuid.UUID(int=1), 0, 10, _candidates(1, "p1", 2))
    chosen = allocate([demand], org_free=5, caller_number_free={"p1": 1})
    held = held_back(
        [demand], chosen, org_free=5, caller_number_free={"p1": 1}, caller_number_limits={}
    )
    assert held == {uuid.UUID(int=101): HeldBy.PHONE_NUMBER_RATE}


def test_a_full_campaigns_candidates_wait_for_it_before_the_org() -> None:
    a = CampaignDemand(uuid.UUID(int=1), 1, 2, _candidates(1, "p1", 3))
    chosen = allocate([a], org_free=1, caller_number_free={"p1": 5})
    assert held_back(
        [a], chosen, org_free=1, caller_number_free={"p1": 5}, caller_number_limits={}
    ) == {
        uuid.UUID(int=101): HeldBy.CAMPAIGN,
        uuid.UUID(int=102): HeldBy.CAMPAIGN,
    }


def test_nothing_is_held_when_every_candidate_is_claimed() -> None:
    demand = CampaignDemand(uuid.UUID(int=1), 0, 10, _candidates(1, "p1", 3))
    chosen = allocate([demand], org_free=5, caller_number_free={"p1": 5})
    assert (
        held_back(
            [demand], chosen, org_free=5, caller_number_free={"p1": 5}, caller_number_limits={}
        )
        == {}
    )


def test_a_caller_numbers_limit_is_its_rate_unless_its_calls_in_flight_bind_first() -> None:
    def limit(per_second: float, max_concurrency: int | None, in_flight: int) -> str:
        pacing = CallerNumberPacing(per_second, max_concurrency)
        load = CallerNumberLoad(in_flight=in_flight, waiting=0)
        return caller_number_limit(pacing, load, lookahead_seconds=2.0)

    assert limit(1, None, 50) == HeldBy.PHONE_NUMBER_RATE
    assert limit(1, 10, 8) == HeldBy.PHONE_NUMBER_RATE  # 2 by rate, 2 by concurrency
    assert limit(1, 10, 9) == HeldBy.PHONE_NUMBER_CONCURRENCY
    assert limit(100, 10, 0) == HeldBy.PHONE_NUMBER_CONCURRENCY


# --- calling hours ------------------------------------------------------------------------------


def _deferred(session: Session, campaign_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(
        Contact.campaign_id == campaign_id, Contact.deferral == DeferralReason.CALLING_HOURS
    )
    return int(session.scalar(stmt) or 0)


def test_a_closed_group_defers_only_the_front_the_claim_would_take_and_only_once(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    clock.set(NIGHT)
    fast_caller_number(session, org=org)
    campaign_id = make_campaign(
        session,
        org=org,
        customers=[{"number": n} for n in customer_numbers(3000)],
        callingHours=NEW_YORK_DAYTIME,
        maxConcurrency=40,
    )

    assert dispatch(session, org=org, now=NIGHT) == []
    assert campaign_decisions(session, campaign_id=campaign_id) == {
        ("deferred", "calling-hours"): 40
    }
    first = contacts_of(session, campaign_id=campaign_id)[0]
    (decision,) = decisions_of(session, contact_id=first.id)
    assert (decision.retry_at, decision.at) == (OPENING, NIGHT)
    assert decision.detail is not None and "zoneKey" in decision.detail

    for minutes in range(10, 60, 10):
        assert dispatch(session, org=org, now=NIGHT + timedelta(minutes=minutes)) == []
    assert campaign_decisions(session, campaign_id=campaign_id) == {
        ("deferred", "calling-hours"): 40
    }
    assert _deferred(session, campaign_id) == 40


def test_the_contacts_claimed_at_opening_no_longer_wait_and_the_rest_keep_their_one_row(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    clock.set(NIGHT)
    fast_caller_number(session, org=org)
    campaign_id = make_campaign(
        session, org=org, customers=5, callingHours=NEW_YORK_DAYTIME, maxConcurrency=3
    )
    dispatch(session, org=org, now=NIGHT)
    claimed = dispatch(session, org=org, now=OPENING)

    assert len(claimed) == 3
    first, *_, last = contacts_of(session, campaign_id=campaign_id)
    assert kinds_of(session, contact_id=first.id) == [
        ("deferred", "calling-hours"),
        ("claimed", None),
    ]
    assert first.deferral is None
    assert kinds_of(session, contact_id=last.id) == []


def test_each_night_defers_until_that_nights_opening(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    clock.set(NIGHT)
    fast_caller_number(session, org=org)
    campaign_id = make_campaign(
        session, org=org, customers=2, callingHours=NEW_YORK_DAYTIME, maxConcurrency=1
    )
    first, second = contacts_of(session, campaign_id=campaign_id)
    for hour in range(6):
        dispatch(session, org=org, now=NIGHT + timedelta(hours=hour))
    (call_id,) = dispatch(session, org=org, now=OPENING)
    end_call(session, call_id=call_id, reason="customer-ended-call")
    evening = OPENING + timedelta(hours=12)  # 21:00 in New York
    for hour in range(3):
        assert dispatch(session, org=org, now=evening + timedelta(hours=hour)) == []

    (tonight,) = decisions_of(session, contact_id=second.id)
    assert (tonight.at, tonight.retry_at) == (evening, OPENING + timedelta(days=1))
    assert decisions_of(session, contact_id=first.id)[0].retry_at == OPENING


# --- capacity -----------------------------------------------------------------------------------


def _dial_plan_campaign(session: Session, org: CreatedOrg, **extra: Any) -> uuid.UUID:
    """Three contacts on phone-1, then three on phone-2 (dial order)."""
    plan = [
        {"phoneNumberId": caller, "customers": [{"number": n} for n in numbers]}
        for caller, numbers in (
            ("phone-1", customer_numbers(3)),
            ("phone-2", customer_numbers(3, start=3)),
        )
    ]
    for caller in ("phone-1", "phone-2"):
        fast_caller_number(session, org=org, caller_number_id=caller)
    return make_campaign(session, org=org, customers=0, phoneNumberId=None, dialPlan=plan, **extra)


def test_candidates_a_full_campaign_leaves_wait_for_capacity_once(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = _dial_plan_campaign(session, org, maxConcurrency=2)
    contacts = contacts_of(session, campaign_id=campaign_id)
    first_two = dispatch(session, org=org, now=clock.now)

    assert len(first_two) == 2
    assert campaign_decisions(session, campaign_id=campaign_id) == {
        ("claimed", None): 2,
        ("deferred", "capacity"): 2,
    }
    (held,) = decisions_of(session, contact_id=contacts[3].id)
    assert (held.detail, held.retry_at) == ({"limit": "campaign"}, None)

    begin_dial(session, call_id=first_two[0], settings=get_settings())
    record_provider_call(session, call_id=first_two[0], provider_call={"id": "p-1"})
    end_call(session, call_id=first_two[0], reason="customer-ended-call")
    assert len(dispatch(session, org=org, now=clock.now)) == 1
    assert kinds_of(session, contact_id=contacts[3].id) == [("deferred", "capacity")], (
        "held back again for the same reason: no new row"
    )


def _campaign_over_numbers(session: Session, org: CreatedOrg, *, numbers: int) -> uuid.UUID:
    """A campaign dialing five contacts from each of ``numbers`` fast caller numbers."""
    callers = [f"phone-{index}" for index in range(numbers)]
    plan = [
        {
            "phoneNumberId": caller,
            "customers": [{"number": n} for n in customer_numbers(5, start=5 * i)],
        }
        for i, caller in enumerate(callers)
    ]
    for caller in callers:
        fast_caller_number(session, org=org, caller_number_id=caller)
    return make_campaign(session, org=org, customers=0, phoneNumberId=None, dialPlan=plan)


def test_a_dispatch_reads_and_defers_twice_its_room_at_most_whatever_the_numbers(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session, concurrency_limit=4)
    campaign_id = _campaign_over_numbers(session, org, numbers=8)

    claimed = dispatch(session, org=org, now=clock.now)
    assert len(claimed) == 4
    # Every number has due contacts: reading each one's share of the room would read 32 and
    # defer 28. Only the first eight in dial order are read; the four left wait for the org.
    assert campaign_decisions(session, campaign_id=campaign_id) == {
        ("claimed", None): 4,
        ("deferred", "capacity"): 4,
    }
    contacts = contacts_of(session, campaign_id=campaign_id)
    waiting = [c for c in contacts if c.deferral == DeferralReason.CAPACITY]
    assert len(waiting) == 4


def test_candidates_the_orgs_limit_leaves_wait_for_the_org(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session, concurrency_limit=3)
    fast_caller_number(session, org=org)
    first = make_campaign(session, org=org, customers=5)
    second = make_campaign(
        session, org=org, customers=[{"number": n} for n in customer_numbers(5, start=5)]
    )

    assert len(dispatch(session, org=org, now=clock.now)) == 3
    held = session.scalars(
        select(ContactDecision)
        .where(ContactDecision.campaign_id.in_([first, second]))
        .where(ContactDecision.kind == "deferred")
    ).all()
    assert len(held) == 3
    assert {(d.reason, str(d.detail)) for d in held} == {("capacity", "{'limit': 'org'}")}


@pytest.mark.parametrize(("concurrency_limit", "deferred"), [(10, 0), (2, 2)])
def test_candidates_only_the_dispatchs_batch_leaves_are_not_held_by_the_org(
    session: Session, clock: ManualClock, concurrency_limit: int, deferred: int
) -> None:
    org = make_org(session, concurrency_limit=concurrency_limit)
    campaign_id = _campaign_over_numbers(session, org, numbers=2)

    # Each number's first two are read (the dispatch's room), four in all; two are claimed.
    result = dispatch_org(session, org_id=org.org_id, now=clock.now, batch_limit=2)

    # Room for 10 and a batch of 2: the two read and left are next in line, held by nothing.
    # Room for 2 only: the org's limit holds them, whatever the batch.
    assert len(result.call_ids) == 2
    decisions = campaign_decisions(session, campaign_id=campaign_id)
    assert decisions.get(("deferred", "capacity"), 0) == deferred
    assert decisions[("claimed", None)] == 2


def test_a_caller_numbers_rate_then_its_calls_in_flight_are_one_reason_to_wait(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session, concurrency_limit=10)
    fast_caller_number(session, org=org, calls_per_second=1)
    a = make_campaign(session, org=org, customers=3)
    b = make_campaign(
        session, org=org, customers=[{"number": n} for n in customer_numbers(3, start=3)]
    )
    a0, a1, _ = contacts_of(session, campaign_id=a)
    b0, b1, _ = contacts_of(session, campaign_id=b)

    first = dispatch(session, org=org, now=clock.now)
    assert len(first) == 2, "one second of rate ahead of the limiter: two calls"
    for contact in (a1, b1):
        (rate,) = decisions_of(session, contact_id=contact.id)
        assert (rate.reason, rate.detail) == ("capacity", {"limit": "phone-number-rate"})
        assert rate.retry_at == clock.now + timedelta(seconds=get_settings().tick_interval_seconds)

    for call_id in first:  # sent: they no longer wait for the rate, they are in flight
        begin_dial(session, call_id=call_id, settings=get_settings())
        record_provider_call(session, call_id=call_id, provider_call={"id": f"p-{call_id}"})
    fast_caller_number(session, org=org, calls_per_second=1, max_concurrency=3)
    assert (
        len(dispatch_org(session, org_id=org.org_id, now=clock.now, batch_limit=500).call_ids) == 1
    )

    # The campaigns tie (one call in flight each, made at one instant): either may go first.
    histories = sorted(
        (decisions_of(session, contact_id=c.id) for c in (a1, b1)), key=lambda h: h[-1].kind
    )
    assert [[(d.kind, d.reason) for d in history] for history in histories] == [
        [("deferred", "capacity"), ("claimed", None)],
        [("deferred", "capacity")],
    ], "now held by the caller number's calls in flight: the same reason to wait, no new row"
    assert histories[1][0].detail == {"limit": "phone-number-rate"}
    for contact in (a0, b0):
        assert kinds_of(session, contact_id=contact.id) == [("claimed", None), ("dialed", None)]


def _send_and_end(session: Session, call_ids: list[uuid.UUID]) -> None:
    for call_id in call_ids:
        begin_dial(session, call_id=call_id, settings=get_settings())
        record_provider_call(session, call_id=call_id, provider_call={"id": f"p-{call_id}"})
        end_call(session, call_id=call_id, reason="customer-ended-call")


def test_a_binding_limit_flipping_between_rate_and_calls_in_flight_adds_no_rows(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session, concurrency_limit=50)
    fast_caller_number(session, org=org, calls_per_second=1)
    fast_caller_number(session, org=org, caller_number_id="phone-2")
    make_campaign(session, org=org, customers=100)
    # Five calls in flight on another caller number: phone-1's slots go to the campaign with
    # fewer, every tick, and the other's first contacts on phone-1 wait at the queue's head.
    plan = [
        {"phoneNumberId": "phone-2", "customers": [{"number": n} for n in customer_numbers(5)]},
        {
            "phoneNumberId": "phone-1",
            "customers": [{"number": n} for n in customer_numbers(2, start=5)],
        },
    ]
    loser = make_campaign(session, org=org, customers=0, phoneNumberId=None, dialPlan=plan)
    waiting = contacts_of(session, campaign_id=loser)[5:]

    idle = CallerNumberLoad(in_flight=0, waiting=0)
    for tick in range(40):
        # Calls in flight at one: that limit binds (one call) before the rate (two).
        max_concurrency = 1 if tick % 2 else None
        pacing = CallerNumberPacing(1, max_concurrency)
        expected = HeldBy.PHONE_NUMBER_CONCURRENCY if tick % 2 else HeldBy.PHONE_NUMBER_RATE
        assert caller_number_limit(pacing, idle, lookahead_seconds=2.0) == expected
        fast_caller_number(session, org=org, calls_per_second=1, max_concurrency=max_concurrency)
        claimed = dispatch(session, org=org, now=clock.now + timedelta(seconds=tick))
        won = [c for c in claimed if c not in _calls_of(session, loser)]
        assert len(won) == (1 if tick % 2 else 2)
        _send_and_end(session, won)

    assert campaign_decisions(session, campaign_id=loser) == {
        ("claimed", None): 5,
        ("deferred", "capacity"): 2,
    }, "forty ticks, the binding limit flipping each: one row per waiting contact"
    for contact in waiting:
        (waits,) = decisions_of(session, contact_id=contact.id)
        assert (waits.detail, waits.at) == ({"limit": "phone-number-rate"}, clock.now)
        session.refresh(contact)
        assert contact.deferral == DeferralReason.CAPACITY


def _calls_of(session: Session, campaign_id: uuid.UUID) -> set[uuid.UUID]:
    return set(session.scalars(select(Call.id).where(Call.campaign_id == campaign_id)))
