"""Taking calls-per-second slots before dialing, and failing closed when Redis lost the state."""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from orchestrator.calls.placing import (
    PlaceOutcome,
    PlaceResult,
    hold_rate_slot,
    hold_rate_slots,
    pass_rate_gate,
)
from orchestrator.clock import ManualClock
from orchestrator.models import Call, CallStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.pacing.limiter import RateLimiter
from orchestrator.pacing.service import (
    REBUILD_LOCK_KEY,
    caller_number_key,
    effective_rate,
    ensure_pacing_state,
    rebuild_pacing_state,
    unfinished_send_stale_seconds,
)
from tests.factories import claimed_direct_call, fast_caller_number


def test_a_second_call_of_a_number_waits_exactly_one_interval(
    session: Session, org: CreatedOrg, limiter: RateLimiter
) -> None:
    fast_caller_number(session, org=org, calls_per_second=2)
    first, second = claimed_direct_call(session, org=org), claimed_direct_call(session, org=org)
    holding = hold_rate_slot(session, call_id=first, limiter=limiter)
    assert holding.outcome == PlaceOutcome.HOLDING
    assert pass_rate_gate(limiter, holding, token=str(first)) is None
    waiting = hold_rate_slot(session, call_id=second, limiter=limiter)
    assert waiting.outcome == PlaceOutcome.WAITING
    interval = 1 / effective_rate(2)
    assert interval * 0.9 < waiting.retry_after_seconds <= interval
    # The slot is held for this call: coming back early waits again, on time it dials.
    assert waiting.reservation is not None
    again = hold_rate_slot(
        session, call_id=second, limiter=limiter, reservation=waiting.reservation
    )
    assert again.outcome == PlaceOutcome.WAITING
    assert again.reservation == waiting.reservation
    time.sleep(again.retry_after_seconds + 0.01)
    due = hold_rate_slot(session, call_id=second, limiter=limiter, reservation=waiting.reservation)
    assert due.outcome == PlaceOutcome.HOLDING
    assert pass_rate_gate(limiter, due, token=str(second)) is None


class _CountedChecks(RateLimiter):
    """The real limiter, counting how often the gate is asked."""

    checks = 0

    def check(self, *args: Any, **kwargs: Any) -> Any:
        self.checks += 1
        return super().check(*args, **kwargs)


def _held_slots(
    session: Session, org: CreatedOrg, limiter: RateLimiter, *, calls_per_second: int, count: int
) -> tuple[list[uuid.UUID], _CountedChecks, dict[uuid.UUID, PlaceResult]]:
    """``count`` direct calls of one number, their slots held through a counting limiter."""
    fast_caller_number(session, org=org, calls_per_second=calls_per_second)
    calls = [claimed_direct_call(session, org=org) for _ in range(count)]
    counted = _CountedChecks(limiter.client, prefix=limiter.redis_key(""))
    return calls, counted, hold_rate_slots(session, call_ids=calls, limiter=counted)


def test_a_batchs_call_asks_the_gate_once_its_slot_is_due_not_before(
    session: Session, org: CreatedOrg, limiter: RateLimiter
) -> None:
    # Slots a fifth of a second apart (the gate waits a quarter at most): a stall of the
    # test's thread shorter than half of that still finds each call's gate open on time.
    calls, counted, held = _held_slots(session, org, limiter, calls_per_second=5, count=3)
    interval = 1 / effective_rate(5)
    slots = [held[call_id] for call_id in calls]
    assert [r.outcome for r in slots] == [PlaceOutcome.HOLDING] + [PlaceOutcome.WAITING] * 2
    gaps = [later.due_at - earlier.due_at for earlier, later in itertools.pairwise(slots)]
    assert gaps == pytest.approx([interval, interval], abs=1e-3)
    for call_id, result in zip(calls, slots, strict=True):
        assert pass_rate_gate(counted, result, token=str(call_id)) is None
        assert time.monotonic() >= result.due_at
    # Each call asked once: it waited for its slot here, where the gate would say "not yet".
    assert counted.checks == 3


def test_a_slot_further_off_than_the_gate_waits_is_handed_back_without_asking(
    session: Session, org: CreatedOrg, limiter: RateLimiter
) -> None:
    calls, counted, held = _held_slots(session, org, limiter, calls_per_second=1, count=2)
    later = held[calls[1]]
    assert later.outcome == PlaceOutcome.WAITING and later.due_at > time.monotonic() + 0.5
    came_back = pass_rate_gate(counted, later, token=str(calls[1]))
    assert came_back is not None and came_back.outcome == PlaceOutcome.WAITING
    assert came_back.reservation == later.reservation and came_back.retry_after_seconds > 0.5
    assert counted.checks == 0


def test_numbers_and_orgs_have_separate_limits(
    session: Session, org: CreatedOrg, limiter: RateLimiter
) -> None:
    fast_caller_number(session, org=org, calls_per_second=1)
    fast_caller_number(session, org=org, caller_number_id="phone-2", calls_per_second=1)
    first = hold_rate_slot(session, call_id=claimed_direct_call(session, org=org), limiter=limiter)
    other = hold_rate_slot(
        session,
        call_id=claimed_direct_call(session, org=org, caller_number_id="phone-2"),
        limiter=limiter,
    )
    assert (first.outcome, other.outcome) == (PlaceOutcome.HOLDING, PlaceOutcome.HOLDING)


def test_a_call_no_longer_claimed_takes_no_slot(
    session: Session, org: CreatedOrg, limiter: RateLimiter
) -> None:
    call_id = claimed_direct_call(session, org=org)
    call = session.get(Call, call_id)
    assert call is not None
    call.status = CallStatus.DIALING
    session.flush()
    result = hold_rate_slot(session, call_id=call_id, limiter=limiter)
    assert result.outcome == PlaceOutcome.NOT_MINE
    assert not limiter.client.exists(limiter.redis_key(caller_number_key(org.org_id, "phone-1")))


def test_lost_state_fails_closed_while_another_process_rebuilds(
    session: Session, org: CreatedOrg, limiter: RateLimiter, clock: ManualClock
) -> None:
    limiter.forget_state()
    lock = limiter.client.lock(REBUILD_LOCK_KEY, timeout=5)
    assert lock.acquire(blocking=False)
    try:
        result = hold_rate_slot(
            session, call_id=claimed_direct_call(session, org=org), limiter=limiter
        )
        assert result.outcome == PlaceOutcome.WAITING
        assert result.retry_after_seconds > 0
    finally:
        lock.release()
    assert ensure_pacing_state(session, limiter, now=clock.now)
    resumed = hold_rate_slot(
        session, call_id=claimed_direct_call(session, org=org), limiter=limiter
    )
    assert resumed.outcome == PlaceOutcome.HOLDING


def test_rebuild_puts_each_numbers_next_slot_after_its_last_dial(
    session: Session, org: CreatedOrg, limiter: RateLimiter
) -> None:
    fast_caller_number(session, org=org, calls_per_second=0.5)
    now_us = limiter.redis_time_us()
    now = datetime.fromtimestamp(now_us / 1_000_000, UTC)
    dialed = Call(
        org_id=org.org_id,
        status=CallStatus.QUEUED,
        phone_number_id="phone-1",
        customer={},
        dialed_at=now - timedelta(milliseconds=500),
    )
    session.add(dialed)
    session.flush()
    limiter.forget_state()
    assert rebuild_pacing_state(session, limiter, now=now) >= 1
    assert limiter.has_state()
    refused = limiter.reserve(
        caller_number_key(org.org_id, "phone-1"), per_second=effective_rate(0.5), max_wait_seconds=0
    )
    assert not refused.granted
    # Two windows of 2 s (one call per 2 s) after a dial half a second ago.
    assert refused.wait_seconds == pytest.approx(3.5, abs=0.05)


def _send_when_allowed(session: Session, org: CreatedOrg, limiter: RateLimiter) -> int:
    """Hold a slot and pass the gate, waiting as told; the Redis time the call went."""
    call_id = claimed_direct_call(session, org=org)
    held = hold_rate_slot(session, call_id=call_id, limiter=limiter)
    while held.outcome == PlaceOutcome.WAITING:
        time.sleep(held.retry_after_seconds)
        held = (
            hold_rate_slot(session, call_id=call_id, limiter=limiter)
            if held.reservation is None
            else PlaceResult(PlaceOutcome.HOLDING, 0.0, held.reservation, held.rate_key)
        )
    while (gate := pass_rate_gate(limiter, held, token=str(call_id))) is not None:
        time.sleep(gate.retry_after_seconds)
    sent = limiter.redis_time_us()
    limiter.finish(held.rate_key, token=str(call_id), stale_seconds=unfinished_send_stale_seconds())
    return sent


def test_the_gate_keeps_any_k_plus_one_calls_k_intervals_apart(
    session: Session, org: CreatedOrg, limiter: RateLimiter
) -> None:
    fast_caller_number(session, org=org, calls_per_second=20)
    sent = [_send_when_allowed(session, org, limiter) for _ in range(30)]
    # 20 calls per second: no 21 consecutive calls within one second.
    assert all(b - a >= 1_000_000 for a, b in zip(sent, sent[20:], strict=False))
    assert all(b - a >= 20_000 for a, b in itertools.pairwise(sent))
