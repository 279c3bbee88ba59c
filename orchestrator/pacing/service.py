"""Calls-per-second slots for caller numbers, and rebuilding the limits when Redis lost them.

Dispatch fails closed: when Redis no longer holds the limits' state (a restart without
persistence, an eviction, a flush), no slot is given until the state is rebuilt from the
database, where every dial's time is recorded. The rebuild puts each caller number's next slot
after its last dial, so a limit is never exceeded across the loss.
"""

from __future__ import annotations

import logging
import math
import uuid
from datetime import datetime, timedelta
from functools import lru_cache

import redis
from sqlalchemy.orm import Session

from orchestrator.config import get_settings
from orchestrator.pacing import repository
from orchestrator.pacing.limiter import RateLimiter, ReserveResult, SlotWanted
from orchestrator.phone_numbers.service import messages_per_second_of, pacing_of_caller_numbers

logger = logging.getLogger(__name__)

REBUILD_LOCK_KEY = "orch:rate:rebuild-lock"
# A dial older than this cannot hold back any rate we allow (the slowest is 1 call a minute).
REBUILD_LOOKBACK = timedelta(seconds=120)
# A call holds a slot at most this far ahead; beyond, it asks again later (short countdowns
# only: the broker must never hold long-delayed messages).
MAX_RESERVATION_SECONDS = 5.0
# Calls exactly one window apart must not share a window, whichever way its edges are counted.
WINDOW_EDGE_US = 1_000


@lru_cache(maxsize=1)
def pacing_limiter() -> RateLimiter:
    """One Redis connection pool per process, created lazily (after a worker forks)."""
    client: redis.Redis[bytes] = redis.Redis.from_url(
        get_settings().redis_url, socket_timeout=5, socket_connect_timeout=5
    )
    return RateLimiter(client)


def caller_number_key(org_id: uuid.UUID, phone_number_id: str | None) -> str:
    return f"{org_id}:{phone_number_id or '-'}"


def text_number_key(org_id: uuid.UUID, phone_number_id: str | None) -> str:
    """A caller number's texts-per-second limit: a key of its own, beside its calls'."""
    return f"sms:{org_id}:{phone_number_id or '-'}"


def effective_rate(calls_per_second: float) -> float:
    """The rate calls actually leave at: a margin under the limit absorbs network jitter."""
    return calls_per_second / (1 + get_settings().pacing_safety_margin)


def _window_span_us(per_second: float) -> int:
    """How far apart any K + 1 calls of a caller number must be at K calls per second (µs)."""
    window_calls = max(1, math.floor(per_second))
    return math.ceil(window_calls * 1_000_000 / per_second) + WINDOW_EDGE_US


def reserve_slot(
    limiter: RateLimiter, *, org_id: uuid.UUID, phone_number_id: str | None, per_second: float
) -> ReserveResult:
    return reserve_slot_under(
        limiter, caller_number_key(org_id, phone_number_id), per_second=per_second
    )


def reserve_slot_under(limiter: RateLimiter, key: str, *, per_second: float) -> ReserveResult:
    """The next slot under ``key`` (a caller number's calls, or its texts)."""
    wanted = slot_wanted(key, per_second=per_second)
    return limiter.reserve(
        key,
        per_second=wanted.per_second,
        max_wait_seconds=wanted.max_wait_seconds,
        window_calls=wanted.window_calls,
        window_span_us=wanted.window_span_us,
    )


def slot_wanted(key: str, *, per_second: float) -> SlotWanted:
    """What a call (or text) asks the limiter for under ``key`` at ``per_second``."""
    return SlotWanted(
        key,
        effective_rate(per_second),
        MAX_RESERVATION_SECONDS,
        # At 5 calls per second, any 6 consecutive calls span 5 (stretched) intervals, and
        # are at least a second apart at the provider.
        window_calls=max(1, math.floor(per_second)),
        window_span_us=_window_span_us(per_second),
    )


def unfinished_send_stale_seconds() -> float:
    """When a call let through whose end nobody reported counts as finished.

    Past every timeout of its create request (connect, write, read), so the provider can no
    longer be recording it.
    """
    return 3 * get_settings().provider_timeout_seconds + 1.0


def rebuild_pacing_state(session: Session, limiter: RateLimiter, *, now: datetime) -> int:
    """Put back every caller number's next slot from the dials recorded in the database.

    Returns how many caller numbers were restored. Only one process rebuilds at a time; the others
    keep failing closed until it is done.
    """
    lock = limiter.client.lock(REBUILD_LOCK_KEY, timeout=30, blocking=False)
    if not lock.acquire():
        return 0
    try:
        if limiter.has_state():
            return 0
        restored = 0
        offset_us = limiter.redis_time_us() - int(now.timestamp() * 1_000_000)
        for org_id, caller_number_id, last_dial in repository.last_dial_by_caller(
            session, since=now - REBUILD_LOOKBACK
        ):
            if last_dial is None:
                continue
            pacing = pacing_of_caller_numbers(
                session, org_id=org_id, caller_number_ids=[caller_number_id]
            )[caller_number_id]
            # The gate's record of when the provider answered is gone with the state: wait two
            # whole windows after the last dial (our clock translated to Redis's), so calls
            # before the loss and after it never share a window at the provider.
            next_us = (
                int(last_dial.timestamp() * 1_000_000)
                + offset_us
                + 2 * _window_span_us(pacing.calls_per_second)
            )
            limiter.seed(caller_number_key(org_id, caller_number_id), next_allowed_us=next_us)
            restored += 1
        restored += _restore_texts(session, limiter, now=now, offset_us=offset_us)
        limiter.mark_state_complete(now.isoformat())
        logger.warning("pacing state was missing in Redis: rebuilt %d caller numbers", restored)
        return restored
    finally:
        lock.release()


def _restore_texts(session: Session, limiter: RateLimiter, *, now: datetime, offset_us: int) -> int:
    """Each caller number's texts wait two whole windows after its last text, as calls do."""
    restored = 0
    for org_id, caller_number_id, last_sent in repository.last_text_by_caller(
        session, since=now - REBUILD_LOOKBACK
    ):
        if last_sent is None:
            continue
        rate = messages_per_second_of(session, org_id=org_id, caller_number_id=caller_number_id)
        next_us = int(last_sent.timestamp() * 1_000_000) + offset_us + 2 * _window_span_us(rate)
        limiter.seed(text_number_key(org_id, caller_number_id), next_allowed_us=next_us)
        restored += 1
    return restored


def ensure_pacing_state(session: Session, limiter: RateLimiter, *, now: datetime) -> bool:
    """True when decisions may be made; rebuilds the state first when Redis lost it."""
    if limiter.has_state():
        return True
    rebuild_pacing_state(session, limiter, now=now)
    return limiter.has_state()
