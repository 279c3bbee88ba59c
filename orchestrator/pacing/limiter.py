"""Calls-per-second limits shared by every worker and host: GCRA in one atomic Redis script.

The generic cell rate algorithm keeps a single timestamp per key, the theoretical arrival
time (TAT) of the next call. A call is allowed when ``now >= TAT - burst``; it then pushes TAT
one emission interval (``1 / rate``) forward. A refused call learns exactly how long to wait.
Time comes from Redis itself (``TIME``) so hosts with skewed clocks still share one limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import redis

# Microseconds throughout: integers keep the script exact.
# KEYS[2] marks the state as whole: when Redis lost it (restart, eviction, flush) every
# answer is "state lost" until the state is rebuilt, so no limit is ever forgotten silently.
GCRA_SCRIPT = """
if redis.call('EXISTS', KEYS[2]) == 0 then
  return {-1, 0}
end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat - burst
if now < allowed_at then
  return {0, allowed_at - now}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {1, 0}
"""


# Reserving: the caller gets the next free slot (evenly spaced, no burst) if it is no more
# than ARGV[3] µs away, and comes back for it then. Waiting callers never contend for one
# slot: each holds its own. The state's epoch is returned so that a reservation made before
# the state was lost is never honoured after it.
RESERVE_SCRIPT = """
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  return {-1, 0, 0, ''}
end
local interval = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local max_wait = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > max_wait then
  return {0, tat - now, now, epoch}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {1, tat - now, now, epoch}
"""

# The gate a call passes the instant before it is sent, once its slot has come. It keeps the
# times of the last K calls sent under the key and lets a call through only when the K-th
# latest was at least K intervals ago (so any K + 1 consecutive calls span K intervals: with
# K = the rate, never more than the rate in any second) and the latest at least half an
# interval ago (no bunching). A call that came late for its slot may thus catch up a little,
# without ever breaking the window. KEYS[1] log, KEYS[2] epoch; ARGV slot, interval, K.
GATE_SCRIPT = """
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  return {-1, 0, ''}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[2])
local k = tonumber(ARGV[3])
local ready_at = tonumber(ARGV[1])
local log = redis.call('LRANGE', KEYS[1], 0, k - 1)
if #log >= 1 and tonumber(log[1]) + math.floor(interval / 2) > ready_at then
  ready_at = tonumber(log[1]) + math.floor(interval / 2)
end
if #log >= k and tonumber(log[k]) + k * interval > ready_at then
  ready_at = tonumber(log[k]) + k * interval
end
if now < ready_at then
  return {0, ready_at - now, epoch}
end
redis.call('LPUSH', KEYS[1], now)
redis.call('LTRIM', KEYS[1], 0, k - 1)
redis.call('PEXPIRE', KEYS[1], math.ceil(k * interval / 1000) + 1000)
return {1, 0, epoch}
"""

SEED_SCRIPT = """
local tat = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if tat > now then
  redis.call('SET', KEYS[1], tat, 'PX', math.ceil((tat - now) / 1000) + 1000)
end
return now
"""


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: float
    # Redis no longer has the limits' state: nothing may be allowed until it is rebuilt.
    state_lost: bool = False


@dataclass(frozen=True)
class ReserveResult:
    granted: bool
    wait_seconds: float
    reservation: Reservation | None = None
    state_lost: bool = False


class ReservationCheck(StrEnum):
    READY = "ready"
    EARLY = "early"
    VOID = "void"


@dataclass(frozen=True)
class Reservation:
    """A slot held for one call: it may go at ``slot_us`` (Redis clock), in ``epoch``."""

    slot_us: int
    epoch: str
    interval_us: int
    # K: calls let through in any K intervals (the configured calls per second, at least 1).
    window_calls: int = 1


class RateLimiter:
    """One GCRA limit per key (for example a caller phone number)."""

    def __init__(self, client: redis.Redis[bytes], *, prefix: str = "orch:rate:") -> None:
        self._client = client
        self._prefix = prefix
        self._epoch_key = prefix + "epoch"
        self._script = client.register_script(GCRA_SCRIPT)
        self._seed = client.register_script(SEED_SCRIPT)
        self._reserve = client.register_script(RESERVE_SCRIPT)
        self._gate = client.register_script(GATE_SCRIPT)

    @property
    def client(self) -> redis.Redis[bytes]:
        return self._client

    def redis_key(self, key: str) -> str:
        return self._prefix + key

    def forget_state(self) -> None:
        """What a Redis restart without persistence does: the state is no longer whole."""
        self._client.delete(self._epoch_key)

    def has_state(self) -> bool:
        return bool(self._client.exists(self._epoch_key))

    def mark_state_complete(self, epoch: str) -> None:
        """The state is whole again (rebuilt, or new): decisions may be made from it."""
        self._client.set(self._epoch_key, epoch)

    def seed(self, key: str, *, next_allowed_us: int) -> int:
        """Restore one key: nothing under it before ``next_allowed_us`` (Redis clock, µs)."""
        return int(self._seed(keys=[self._prefix + key], args=[next_allowed_us]))

    def redis_time_us(self) -> int:
        seconds, micros = self._client.time()
        return int(seconds) * 1_000_000 + int(micros)

    def try_acquire(
        self, key: str, *, per_second: float, burst: int = 1, now_us: int | None = None
    ) -> RateDecision:
        """Take one call's slot under ``per_second`` if it is free now.

        ``burst`` is how many calls may go back to back after a quiet spell (1 means evenly
        spaced). ``now_us`` replaces Redis's clock, for tests.
        """
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        interval = max(1, round(1_000_000 / per_second))
        tolerance = interval * (max(1, burst) - 1)
        allowed, wait_us = self._script(
            keys=[self._prefix + key, self._epoch_key],
            args=[interval, tolerance, -1 if now_us is None else now_us],
        )
        if int(allowed) < 0:
            return RateDecision(False, 0.0, state_lost=True)
        return RateDecision(bool(allowed), int(wait_us) / 1_000_000)

    def reserve(
        self,
        key: str,
        *,
        per_second: float,
        max_wait_seconds: float,
        window_calls: int = 1,
        now_us: int | None = None,
    ) -> ReserveResult:
        """Hold the next evenly spaced slot under ``per_second`` if it is close enough."""
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        interval = max(1, round(1_000_000 / per_second))
        granted, wait_us, now, epoch = self._reserve(
            keys=[self._prefix + key, self._epoch_key],
            args=[interval, -1 if now_us is None else now_us, round(max_wait_seconds * 1e6)],
        )
        if int(granted) < 0:
            return ReserveResult(False, 0.0, state_lost=True)
        wait = int(wait_us) / 1_000_000
        if not int(granted):
            return ReserveResult(False, wait)
        held = Reservation(int(now) + int(wait_us), _text(epoch), interval, window_calls)
        return ReserveResult(True, wait, held)

    def check(self, key: str, reservation: Reservation) -> tuple[ReservationCheck, float]:
        """Pass the gate with a held slot now, or learn how long to wait for it.

        A reservation from before the state was lost is void: the call must queue again.
        Passing the gate counts as sending the call, so it is the last step before sending.
        """
        ready, wait_us, epoch = self._gate(
            keys=[self._prefix + key + ":sent", self._epoch_key],
            args=[reservation.slot_us, reservation.interval_us, max(1, reservation.window_calls)],
        )
        if int(ready) < 0 or _text(epoch) != reservation.epoch:
            return ReservationCheck.VOID, 0.0
        if not int(ready):
            return ReservationCheck.EARLY, int(wait_us) / 1_000_000
        return ReservationCheck.READY, 0.0

    def reset(self, key: str) -> None:
        self._client.delete(self._prefix + key)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
