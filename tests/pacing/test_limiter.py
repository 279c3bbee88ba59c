"""The GCRA limiter against a real Redis, with a controlled clock."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import redis

from orchestrator.config import get_settings
from orchestrator.pacing.limiter import RateLimiter

SECOND = 1_000_000


@pytest.fixture
def limiter(database_url: str) -> Iterator[RateLimiter]:
    client = redis.Redis.from_url(get_settings().redis_url)
    limiter = RateLimiter(client, prefix=f"test:{uuid.uuid4()}:")
    limiter.mark_state_complete("test")
    yield limiter
    limiter.forget_state()
    client.close()


def test_evenly_spaced_at_the_rate(limiter: RateLimiter) -> None:
    start = 10 * SECOND
    assert limiter.try_acquire("n", per_second=5, now_us=start).allowed
    refused = limiter.try_acquire("n", per_second=5, now_us=start + 100_000)
    assert not refused.allowed
    assert refused.retry_after_seconds == pytest.approx(0.1)
    assert limiter.try_acquire("n", per_second=5, now_us=start + 200_000).allowed


def test_never_more_than_the_rate_in_any_second(limiter: RateLimiter) -> None:
    allowed = [
        t
        for t in range(0, 3 * SECOND, 10_000)
        if limiter.try_acquire("n", per_second=5, now_us=50 * SECOND + t).allowed
    ]
    assert len(allowed) == 15
    for first in allowed:
        assert sum(1 for t in allowed if first <= t < first + SECOND) <= 5


def test_burst_lets_calls_go_back_to_back_after_a_quiet_spell(limiter: RateLimiter) -> None:
    now = 100 * SECOND
    decisions = [limiter.try_acquire("n", per_second=2, burst=3, now_us=now) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[3].retry_after_seconds == pytest.approx(0.5)


def test_keys_are_independent(limiter: RateLimiter) -> None:
    now = 200 * SECOND
    assert limiter.try_acquire("a", per_second=1, now_us=now).allowed
    assert limiter.try_acquire("b", per_second=1, now_us=now).allowed
    assert not limiter.try_acquire("a", per_second=1, now_us=now).allowed


def test_concurrent_callers_share_one_limit(limiter: RateLimiter) -> None:
    """Many threads on Redis's own clock: the script is atomic, so no slot is given twice."""
    granted: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(50):
            if limiter.try_acquire("shared", per_second=0.5).allowed:
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
        limiter.try_acquire("n", per_second=0)


def test_nothing_is_allowed_once_the_state_is_lost(limiter: RateLimiter) -> None:
    start = 70 * SECOND
    assert limiter.try_acquire("n", per_second=5, now_us=start).allowed
    limiter.forget_state()
    for offset in (0, SECOND, 10 * SECOND):
        decision = limiter.try_acquire("n", per_second=5, now_us=start + offset)
        assert (decision.allowed, decision.state_lost) == (False, True)
    limiter.mark_state_complete("rebuilt")
    assert limiter.try_acquire("n", per_second=5, now_us=start + SECOND).allowed


def test_seeding_a_key_holds_calls_back_until_then(limiter: RateLimiter) -> None:
    redis_now = limiter.redis_time_us()
    limiter.seed("n", next_allowed_us=redis_now + 3 * SECOND)
    refused = limiter.try_acquire("n", per_second=5)
    assert not refused.allowed
    assert 2.5 < refused.retry_after_seconds <= 3.0
