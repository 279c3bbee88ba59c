"""Every limit at once and fair sharing, as pure functions over counts."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.scheduling.capacity import (
    CallerNumberLoad,
    CallerNumberPacing,
    CampaignDemand,
    Candidate,
    allocate,
    caller_number_allowance,
)


def _demand(
    name: str, *, in_flight: int = 0, cap: int = 100, caller_number_ids: list[str | None]
) -> CampaignDemand:
    return CampaignDemand(
        campaign_id=uuid.uuid5(uuid.NAMESPACE_DNS, name),
        in_flight=in_flight,
        max_concurrency=cap,
        candidates=[Candidate(uuid.uuid4(), caller) for caller in caller_number_ids],
    )


def test_allowance_is_lookahead_of_the_rate_minus_calls_already_waiting() -> None:
    pacing = CallerNumberPacing(calls_per_second=5, max_concurrency=None)
    assert caller_number_allowance(pacing, CallerNumberLoad(), lookahead_seconds=2) == 10
    load = CallerNumberLoad(in_flight=7, waiting=4)
    assert caller_number_allowance(pacing, load, lookahead_seconds=2) == 6


def test_a_slow_caller_number_still_gets_one_call_ahead() -> None:
    pacing = CallerNumberPacing(calls_per_second=0.1, max_concurrency=None)
    assert caller_number_allowance(pacing, CallerNumberLoad(), lookahead_seconds=2) == 1
    assert caller_number_allowance(pacing, CallerNumberLoad(waiting=1), lookahead_seconds=2) == 0


def test_caller_number_concurrency_caps_the_allowance() -> None:
    pacing = CallerNumberPacing(calls_per_second=50, max_concurrency=3)
    assert caller_number_allowance(pacing, CallerNumberLoad(in_flight=1), lookahead_seconds=2) == 2
    assert caller_number_allowance(pacing, CallerNumberLoad(in_flight=5), lookahead_seconds=2) == 0


def test_the_org_capacity_is_split_evenly_between_campaigns() -> None:
    big = _demand("big", caller_number_ids=["a"] * 50)
    small = _demand("small", caller_number_ids=["b"] * 3)
    chosen = allocate([big, small], org_free=6, caller_number_free={"a": 100, "b": 100})
    assert len(chosen[big.campaign_id]) == 3
    assert len(chosen[small.campaign_id]) == 3


def test_free_slots_go_first_to_the_campaign_with_fewest_calls_in_flight() -> None:
    busy = _demand("busy", in_flight=8, caller_number_ids=["a"] * 10)
    idle = _demand("idle", in_flight=0, caller_number_ids=["a"] * 10)
    chosen = allocate([busy, idle], org_free=10, caller_number_free={"a": 100})
    assert len(chosen[idle.campaign_id]) == 9
    assert len(chosen[busy.campaign_id]) == 1


def test_a_campaign_with_less_demand_leaves_the_rest_to_others() -> None:
    small = _demand("small", caller_number_ids=["a"])
    big = _demand("big", caller_number_ids=["a"] * 20)
    chosen = allocate([small, big], org_free=10, caller_number_free={"a": 100})
    assert len(chosen[small.campaign_id]) == 1
    assert len(chosen[big.campaign_id]) == 9


def test_campaign_max_concurrency_is_respected() -> None:
    capped = _demand("capped", in_flight=2, cap=3, caller_number_ids=["a"] * 10)
    chosen = allocate([capped], org_free=10, caller_number_free={"a": 100})
    assert len(chosen[capped.campaign_id]) == 1


def test_a_caller_number_without_slots_is_passed_over_not_blocking_others() -> None:
    campaign = _demand("mixed", caller_number_ids=["a", "a", "b", "a", "b", "b"])
    chosen = allocate([campaign], org_free=10, caller_number_free={"a": 1, "b": 2})
    picked = [c.phone_number_id for c in chosen[campaign.campaign_id]]
    assert picked == ["a", "b", "b"]


def test_dial_order_is_kept_within_a_campaign() -> None:
    campaign = _demand("ordered", caller_number_ids=["a"] * 5)
    chosen = allocate([campaign], org_free=3, caller_number_free={"a": 10})
    assert chosen[campaign.campaign_id] == list(campaign.candidates[:3])


def test_a_shared_caller_number_limit_is_shared_between_campaigns() -> None:
    first = _demand("first", caller_number_ids=["a"] * 5)
    second = _demand("second", caller_number_ids=["a"] * 5)
    chosen = allocate([first, second], org_free=10, caller_number_free={"a": 4})
    assert len(chosen[first.campaign_id]) == 2
    assert len(chosen[second.campaign_id]) == 2


@given(
    org_free=st.integers(0, 30),
    caps=st.lists(st.tuples(st.integers(0, 10), st.integers(1, 12)), min_size=1, max_size=4),
    free_a=st.integers(0, 20),
    free_b=st.integers(0, 20),
    data=st.data(),
)
def test_no_limit_is_ever_exceeded(
    org_free: int,
    caps: list[tuple[int, int]],
    free_a: int,
    free_b: int,
    data: st.DataObject,
) -> None:
    demands = [
        _demand(
            f"c{i}",
            in_flight=in_flight,
            cap=cap,
            caller_number_ids=data.draw(st.lists(st.sampled_from(["a", "b"]), max_size=15)),
        )
        for i, (in_flight, cap) in enumerate(caps)
    ]
    chosen = allocate(demands, org_free=org_free, caller_number_free={"a": free_a, "b": free_b})
    taken = [c for picks in chosen.values() for c in picks]
    assert len(taken) <= org_free
    assert sum(c.phone_number_id == "a" for c in taken) <= free_a
    assert sum(c.phone_number_id == "b" for c in taken) <= free_b
    for demand in demands:
        picks = chosen[demand.campaign_id]
        assert demand.in_flight + len(picks) <= max(demand.max_concurrency, demand.in_flight)
        assert len(set(map(id, picks))) == len(picks)
        assert all(pick in demand.candidates for pick in picks)


def _calling(name: str, recipients: list[str | None]) -> CampaignDemand:
    return CampaignDemand(
        campaign_id=uuid.uuid5(uuid.NAMESPACE_DNS, name),
        in_flight=0,
        max_concurrency=100,
        candidates=[Candidate(uuid.uuid4(), "a", recipient) for recipient in recipients],
    )


def test_a_numbers_last_allowance_goes_to_one_candidate_only() -> None:
    first = _calling("first", ["+1", "+2"])
    second = _calling("second", ["+1", "+3", None])
    chosen = allocate(
        [first, second],
        org_free=10,
        caller_number_free={"a": 10},
        recipient_free={"+1": 1, "+2": 0},
    )
    picked = [c.recipient for d in (first, second) for c in chosen[d.campaign_id]]
    # "+1" once, "+2" never (no allowance left), "+3" and a candidate without a number freely.
    assert sorted(picked, key=str) == ["+1", "+3", None]


@given(
    recipients=st.lists(st.lists(st.sampled_from(["x", "y", "z"]), max_size=8), max_size=4),
    left=st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 3)),
)
def test_no_number_is_given_more_attempts_than_it_has_left(
    recipients: list[list[str | None]], left: dict[str, int]
) -> None:
    demands = [_calling(f"c{i}", r) for i, r in enumerate(recipients)]
    chosen = allocate(demands, org_free=50, caller_number_free={"a": 50}, recipient_free=left)
    taken = [c.recipient for picks in chosen.values() for c in picks]
    for number, most in left.items():
        assert taken.count(number) <= most
    assert taken.count("z") == sum(r.count("z") for r in recipients)
