"""When the recovery sweep asks about a call again: every result from every kind of state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.calls.lookups import (
    LookupResult,
    LookupState,
    next_lookup,
    retry_delay,
)
from tests.factories import lookup_policy

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
POLICY = lookup_policy()
STATES = (
    LookupState(),
    LookupState(failures=3),
    LookupState(not_found_at=NOW - timedelta(seconds=10)),
    LookupState(not_found_at=NOW - timedelta(seconds=90), failures=1),
    LookupState(wait_seconds=480),
)


def _at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize("state", STATES)
def test_a_settling_answer_forgets_everything_and_asks_no_more(state: LookupState) -> None:
    step = next_lookup(state, LookupResult.FOUND, now=NOW, policy=POLICY)
    assert (step.state, step.next_at, step.give_up) == (LookupState(), None, False)


def test_a_live_call_is_asked_again_after_a_wait_that_doubles_up_to_the_maximum() -> None:
    state, waits = LookupState(), []
    for _ in range(6):
        step = next_lookup(state, LookupResult.LIVE, now=NOW, policy=POLICY)
        assert step.next_at is not None and not step.give_up
        waits.append((step.next_at - NOW).total_seconds())
        state = step.state
    assert waits == [120, 240, 480, 900, 900, 900]


@pytest.mark.parametrize("state", STATES)
def test_a_live_answer_clears_failures_and_404s(state: LookupState) -> None:
    step = next_lookup(state, LookupResult.LIVE, now=NOW, policy=POLICY)
    assert step.state.failures == 0
    assert step.state.not_found_at is None


def test_one_404_is_not_enough_a_second_one_a_minute_later_gives_up() -> None:
    first = next_lookup(LookupState(), LookupResult.NOT_FOUND, now=NOW, policy=POLICY)
    assert not first.give_up
    assert (first.state.not_found_at, first.next_at) == (NOW, _at(60))
    early = next_lookup(first.state, LookupResult.NOT_FOUND, now=_at(59), policy=POLICY)
    assert not early.give_up
    assert (early.state.not_found_at, early.next_at) == (NOW, _at(60))
    confirmed = next_lookup(first.state, LookupResult.NOT_FOUND, now=_at(60), policy=POLICY)
    assert confirmed.give_up
    assert confirmed.next_at is None


def test_a_failure_between_two_404s_keeps_the_first_one() -> None:
    first = next_lookup(LookupState(), LookupResult.NOT_FOUND, now=NOW, policy=POLICY)
    failed = next_lookup(first.state, LookupResult.FAILED, now=_at(60), policy=POLICY)
    assert failed.state.not_found_at == NOW
    assert failed.state.failures == 1
    again = next_lookup(failed.state, LookupResult.NOT_FOUND, now=_at(90), policy=POLICY)
    assert again.give_up


def test_a_first_404_dated_in_the_future_starts_over() -> None:
    """A clock moved back must not make the confirmation come early or never."""
    state = LookupState(not_found_at=_at(3600))
    step = next_lookup(state, LookupResult.NOT_FOUND, now=NOW, policy=POLICY)
    assert not step.give_up
    assert (step.state.not_found_at, step.next_at) == (NOW, _at(60))


def test_failures_back_off_exponentially_up_to_the_cap() -> None:
    state, delays = LookupState(), []
    for _ in range(8):
        step = next_lookup(state, LookupResult.FAILED, now=NOW, policy=POLICY)
        assert step.next_at is not None and not step.give_up
        delays.append((step.next_at - NOW).total_seconds())
        state = step.state
    assert delays == [30, 60, 120, 240, 480, 900, 900, 900]
    assert state.failures == 8


@given(st.integers(min_value=0, max_value=10_000))
def test_a_retry_delay_is_never_below_the_base_nor_above_the_cap(failures: int) -> None:
    delay = retry_delay(failures, POLICY)
    assert POLICY.retry_base_seconds <= delay <= POLICY.retry_max_seconds


@given(
    st.sampled_from(list(LookupResult)),
    st.sampled_from(STATES),
    st.floats(min_value=0, max_value=10**6),
)
def test_every_result_from_every_state_asks_again_later_or_stops(
    result: LookupResult, state: LookupState, offset: float
) -> None:
    now = _at(offset)
    step = next_lookup(state, result, now=now, policy=POLICY)
    if step.next_at is None:
        assert step.give_up or result == LookupResult.FOUND
    else:
        assert now < step.next_at <= now + timedelta(seconds=POLICY.max_silence_seconds)
        assert not step.give_up
    assert step.give_up == (
        result == LookupResult.NOT_FOUND
        and state.not_found_at is not None
        and now - state.not_found_at >= timedelta(seconds=POLICY.confirm_seconds)
    )
