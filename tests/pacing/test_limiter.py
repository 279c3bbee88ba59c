"""The GCRA limiter against a real Redis, with a controlled clock."""

from __future__ import annotations

import random
import threading
import time

import pytest

from orchestrator.pacing.limiter import (
    RateLimiter,
    Reservation,
    ReservationCheck,
    ReserveResult,
    SlotWanted,
)

SECOND = 1_000_000
# A send nobody reported finished counts as finished this long after it went.
STALE = 31.0


def _acquire(
    limiter: RateLimiter, key: str, *, per_second: float, now_us: int | None = None
) -> ReserveResult:
    """Take the key's next slot only if it is free now."""
    return limiter.reserve(key, per_second=per_second, max_wait_seconds=0, now_us=now_us)


def test_evenly_spaced_at_the_rate(limiter: RateLimiter) -> None:
    start = 10 * SECOND
    assert _acquire(limiter, "n", per_second=5, now_us=start).granted
    refused = _acquire(limiter, "n", per_second=5, now_us=start + 100_000)
    assert not refused.granted
    assert refused.wait_seconds == pytest.approx(0.1)
    assert _acquire(limiter, "n", per_second=5, now_us=start + 200_000).granted


def test_never_more_than_the_rate_in_any_second(limiter: RateLimiter) -> None:
    allowed = [
        t
        for t in range(0, 3 * SECOND, 10_000)
        if _acquire(limiter, "n", per_second=5, now_us=50 * SECOND + t).granted
    ]
    assert len(allowed) == 15
    for first in allowed:
        assert sum(1 for t in allowed if first <= t < first + SECOND) <= 5


def test_keys_are_independent(limiter: RateLimiter) -> None:
    now = 200 * SECOND
    assert _acquire(limiter, "a", per_second=1, now_us=now).granted
    assert _acquire(limiter, "b", per_second=1, now_us=now).granted
    assert not _acquire(limiter, "a", per_second=1, now_us=now).granted


def test_concurrent_callers_share_one_limit(limiter: RateLimiter) -> None:
    """Many threads on Redis's own clock: the script is atomic, so no slot is given twice."""
    granted: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(50):
            if _acquire(limiter, "shared", per_second=0.5).granted:
                with lock:
                    granted.append(1)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 1


def test_rate_must_be_positive(limiter: RateLimiter) -> None:
    with pytest.raises(ValueError, match="positive"):
        _acquire(limiter, "n", per_second=0)


def test_nothing_is_allowed_once_the_state_is_lost(limiter: RateLimiter) -> None:
    start = 70 * SECOND
    assert _acquire(limiter, "n", per_second=5, now_us=start).granted
    limiter.forget_state()
    for offset in (0, SECOND, 10 * SECOND):
        decision = _acquire(limiter, "n", per_second=5, now_us=start + offset)
        assert (decision.granted, decision.state_lost) == (False, True)
    limiter.mark_state_complete("rebuilt")
    assert _acquire(limiter, "n", per_second=5, now_us=start + SECOND).granted


def test_seeding_a_key_holds_calls_back_until_then(limiter: RateLimiter) -> None:
    redis_now = limiter.redis_time_us()
    limiter.seed("n", next_allowed_us=redis_now + 3 * SECOND)
    refused = _acquire(limiter, "n", per_second=5)
    assert not refused.granted
    assert 2.5 < refused.wait_seconds <= 3.0


def test_reservations_hand_out_evenly_spaced_slots(limiter: RateLimiter) -> None:
    start = 90 * SECOND
    waits = [
        limiter.reserve("n", per_second=5, max_wait_seconds=0.9, now_us=start).wait_seconds
        for _ in range(5)
    ]
    assert waits == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])
    too_far = limiter.reserve("n", per_second=5, max_wait_seconds=0.9, now_us=start)
    assert not too_far.granted
    assert too_far.reservation is None
    assert too_far.wait_seconds == pytest.approx(1.0)


def test_many_reservations_in_one_round_trip_are_taken_in_turn(limiter: RateLimiter) -> None:
    wanted = [
        SlotWanted("a", 5, 0.5, window_calls=5),
        SlotWanted("b", 2, 0.5),
        SlotWanted("a", 5, 0.5, window_calls=5),
        SlotWanted("a", 5, 0.5, window_calls=5),
        SlotWanted("a", 5, 0.5, window_calls=5),
        SlotWanted("b", 2, 0.4),
    ]
    results = limiter.reserve_many(wanted)
    assert [r.granted for r in results] == [True, True, True, True, False, False]
    assert [r.wait_seconds for r in results[:4]] == pytest.approx([0, 0, 0.2, 0.4], abs=0.01)
    assert results[4].wait_seconds == pytest.approx(0.6, abs=0.01)
    assert results[5].wait_seconds == pytest.approx(0.5, abs=0.01)
    held = [r.reservation for r in results[:4]]
    assert all(r is not None for r in held)
    a_first, _, a_second, a_third = (r.slot_us for r in held if r is not None)
    assert (a_second - a_first, a_third - a_second) == (SECOND // 5, SECOND // 5)
    assert held[0] is not None and held[0].window_calls == 5
    assert limiter.reserve_many([]) == []


def test_many_reservations_survive_redis_losing_its_scripts(limiter: RateLimiter) -> None:
    limiter.client.script_flush()
    first, second = limiter.reserve_many([SlotWanted("a", 5, 0.5), SlotWanted("a", 5, 0.5)])
    assert (first.granted, second.granted) == (True, True)
    assert first.reservation is not None and second.reservation is not None
    assert second.reservation.slot_us - first.reservation.slot_us == SECOND // 5


def test_many_reservations_refuse_a_bad_rate_before_taking_any(limiter: RateLimiter) -> None:
    with pytest.raises(ValueError, match="positive"):
        limiter.reserve_many([SlotWanted("a", 5, 0.5), SlotWanted("b", 0, 0.5)])
    assert limiter.reserve("a", per_second=5, max_wait_seconds=0).wait_seconds == 0


def test_a_held_slot_is_used_once_its_time_has_come(limiter: RateLimiter) -> None:
    limiter.reserve("n", per_second=20, max_wait_seconds=1.0)  # dials now
    held = limiter.reserve("n", per_second=20, max_wait_seconds=1.0)
    assert held.reservation is not None
    check, wait = limiter.check("n", held.reservation, token="b", stale_seconds=STALE)
    assert check == ReservationCheck.EARLY
    assert 0 < wait <= 0.05
    time.sleep(wait + 0.01)
    assert (
        limiter.check("n", held.reservation, token="b", stale_seconds=STALE)[0]
        == ReservationCheck.READY
    )


def test_calls_after_a_late_one_are_spaced_from_it_not_from_its_slot(
    limiter: RateLimiter,
) -> None:
    limiter.reserve("n", per_second=10, max_wait_seconds=1.0)
    late = limiter.reserve("n", per_second=10, max_wait_seconds=1.0).reservation
    on_time = limiter.reserve("n", per_second=10, max_wait_seconds=1.0).reservation
    assert late is not None
    assert on_time is not None
    time.sleep(0.15)  # past both slots: the first holder comes 50 ms late
    assert limiter.check("n", late, token="late", stale_seconds=STALE)[0] == ReservationCheck.READY
    limiter.finish("n", token="late", stale_seconds=STALE)
    check, wait = limiter.check("n", on_time, token="on-time", stale_seconds=STALE)
    assert check == ReservationCheck.EARLY
    assert wait > 0.09


def test_a_reservation_from_before_the_state_was_lost_is_void(limiter: RateLimiter) -> None:
    limiter.reserve("n", per_second=10, max_wait_seconds=1.0)
    held = limiter.reserve("n", per_second=10, max_wait_seconds=1.0).reservation
    assert held is not None
    limiter.forget_state()
    assert limiter.check("n", held, token="x", stale_seconds=STALE)[0] == ReservationCheck.VOID
    lost = limiter.reserve("n", per_second=10, max_wait_seconds=1.0)
    assert lost.state_lost
    limiter.mark_state_complete("rebuilt")
    assert limiter.check("n", held, token="x", stale_seconds=STALE)[0] == ReservationCheck.VOID


def _pass(limiter: RateLimiter, held: Reservation, token: str, *, stale: float = STALE) -> int:
    """Wait at the gate as told until the call is let through; the Redis time it went."""
    while True:
        check, wait = limiter.check("n", held, token=token, stale_seconds=stale)
        if check == ReservationCheck.READY:
            return limiter.redis_time_us()
        assert check == ReservationCheck.EARLY
        time.sleep(wait)


def _reserve(limiter: RateLimiter, per_second: float) -> Reservation:
    window_calls = max(1, int(per_second))
    span = round(window_calls * SECOND / per_second)
    result = limiter.reserve(
        "n",
        per_second=per_second,
        max_wait_seconds=10,
        window_calls=window_calls,
        window_span_us=span,
    )
    assert result.reservation is not None
    return result.reservation


def test_the_gate_waits_while_the_kth_latest_call_is_still_being_sent(
    limiter: RateLimiter,
) -> None:
    first, second, third = (_reserve(limiter, 2) for _ in range(3))
    _pass(limiter, first, "first")
    _pass(limiter, second, "second")
    limiter.finish("n", token="second", stale_seconds=STALE)
    time.sleep(third.slot_us / SECOND - limiter.redis_time_us() / SECOND + 0.01)
    # The third call's slot has come, but "first" (2 calls ago) has not finished sending.
    check, wait = limiter.check("n", third, token="third", stale_seconds=STALE)
    assert check == ReservationCheck.EARLY
    assert 0 < wait <= 0.005
    time.sleep(0.2)
    assert (
        limiter.check("n", third, token="third", stale_seconds=STALE)[0] == ReservationCheck.EARLY
    )
    limiter.finish("n", token="first", stale_seconds=STALE)
    finished = limiter.redis_time_us()
    # Now a whole window span (1 s at 2 calls per second) after "first" finished.
    check, wait = limiter.check("n", third, token="third", stale_seconds=STALE)
    assert check == ReservationCheck.EARLY
    assert 0.95 < wait <= 1.0
    went = _pass(limiter, third, "third")
    assert went - finished >= SECOND


def test_a_call_nobody_reported_finished_counts_as_finished_once_stale(
    limiter: RateLimiter,
) -> None:
    first, second = _reserve(limiter, 1), _reserve(limiter, 1)
    sent = _pass(limiter, first, "crashed-sender", stale=0.3)
    went = _pass(limiter, second, "next", stale=0.3)
    # Stale after 0.3 s, then one window span (1 s at 1 call per second).
    assert went - sent >= 1_300_000


def test_finish_times_are_forgotten_with_the_calls_they_space(limiter: RateLimiter) -> None:
    for index in range(6):
        held = _reserve(limiter, 20)
        _pass(limiter, held, f"call-{index}")
        limiter.finish("n", token=f"call-{index}", stale_seconds=STALE)
    finished = limiter.client.hkeys(limiter.redis_key("n:finished"))
    # Only the last K (20) are kept; none dropped yet, and all six are there.
    assert sorted(finished) == sorted(f"call-{i}".encode() for i in range(6))
    many = [_reserve(limiter, 20) for _ in range(25)]
    for index, held in enumerate(many):
        _pass(limiter, held, f"more-{index}")
        limiter.finish("n", token=f"more-{index}", stale_seconds=STALE)
    assert limiter.client.hlen(limiter.redis_key("n:finished")) <= 21


@pytest.mark.parametrize("per_second", [5.0, 2.5])
def test_provider_windows_hold_at_most_the_rate_whatever_the_network_delays(
    limiter: RateLimiter, per_second: float
) -> None:
    """Senders in parallel, each request reaching the provider after a random delay (up to
    a quarter of a second) and finishing after another: the provider never sees more than
    the rate in any 1-second window."""
    rng = random.Random(7)
    delays = [(rng.uniform(0, 0.25), rng.uniform(0, 0.05)) for _ in range(24)]
    recorded: list[int] = []
    lock = threading.Lock()

    def send(index: int) -> None:
        held = _reserve(limiter, per_second)
        slot_wait = (held.slot_us - limiter.redis_time_us()) / SECOND
        time.sleep(max(0.0, slot_wait))
        _pass(limiter, held, f"call-{index}")
        to_provider, to_answer = delays[index]
        time.sleep(to_provider)
        with lock:
            recorded.append(limiter.redis_time_us())
        time.sleep(to_answer)
        limiter.finish("n", token=f"call-{index}", stale_seconds=STALE)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(delays))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    recorded.sort()
    assert len(recorded) == len(delays)
    k = max(1, int(per_second))
    span = k * SECOND / per_second
    assert all(b - a >= span for a, b in zip(recorded, recorded[k:], strict=False))
