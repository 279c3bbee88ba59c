"""Calls-per-second limits shared by every worker and host, in atomic Redis scripts.

Reserving is the generic cell rate algorithm without a burst: one timestamp per key, the
theoretical arrival time (TAT) of the next call. A caller takes the slot at TAT and pushes TAT
one emission interval (``1 / rate``) forward, so every waiting call holds its own slot and
learns exactly when it may go. A gate checked the instant before sending then keeps any
K + 1 calls of a key a window apart at the provider (see ``GATE_SCRIPT``). Time comes from
Redis itself (``TIME``) so hosts with skewed clocks still share one limit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import redis

# Microseconds throughout: integers keep the scripts exact.
# KEYS[2] marks the state as whole: when Redis lost it (restart, eviction, flush) every
# answer is "state lost" until the state is rebuilt, so no limit is ever forgotten silently.

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

# Redis names a script by its SHA-1 (a name, not a safeguard).
RESERVE_SHA = hashlib.sha1(RESERVE_SCRIPT.encode(), usedforsecurity=False).hexdigest()

# The gate a call passes the instant before it is sent, once its slot has come. It keeps the
# last K calls let through under the key (K = calls per second) and lets a call through only
#  - when the latest went at least half an interval ago (no bunching);
#  - when the K-th latest went at least K intervals ago (any K + 1 consecutive calls span K
#    intervals, so a late call may catch up a little without breaking the window);
#  - and when the K-th latest call's create request has finished at least one window span
#    ago. The provider recorded that call before answering it, and records this one after it
#    is sent, so however long either request takes in the network, the two are at least a
#    span apart at the provider: no window there ever holds more than K calls. A K-th latest
#    call still being sent makes the gate wait for it; one nobody reported finished counts as
#    finished ``stale`` after it went (its sender crashed or gave up).
# KEYS[1] log ("sent_us:token", newest first), KEYS[2] epoch, KEYS[3] finish times by token.
# ARGV slot, interval, K, span, token, stale, poll: microseconds.
GATE_SCRIPT = """
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  return {-1, 0, ''}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ready_at = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local k = tonumber(ARGV[3])
local span = tonumber(ARGV[4])
local stale = tonumber(ARGV[6])
local newest = redis.call('LINDEX', KEYS[1], 0)
if newest then
  local latest = tonumber(string.match(newest, '^(%d+)'))
  ready_at = math.max(ready_at, latest + math.floor(interval / 2))
end
local kth = redis.call('LINDEX', KEYS[1], k - 1)
if kth then
  local sent_text, token = string.match(kth, '^(%d+):(.*)$')
  local sent = tonumber(sent_text)
  ready_at = math.max(ready_at, sent + k * interval)
  local finished = redis.call('HGET', KEYS[3], token)
  if finished then
    finished = tonumber(finished)
  elseif now - sent >= stale then
    finished = sent + stale
  else
    return {0, math.min(tonumber(ARGV[7]), sent + stale - now), epoch}
  end
  ready_at = math.max(ready_at, finished + span)
end
if now < ready_at then
  return {0, ready_at - now, epoch}
end
redis.call('LPUSH', KEYS[1], string.format('%.0f', now) .. ':' .. ARGV[5])
for _, dropped in ipairs(redis.call('LRANGE', KEYS[1], k, -1)) do
  redis.call('HDEL', KEYS[3], string.match(dropped, '^%d+:(.*)$'))
end
redis.call('LTRIM', KEYS[1], 0, k - 1)
local ttl = math.ceil((k * interval + span + stale) / 1000) + 1000
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return {1, 0, epoch}
"""

# A call's create request has finished (answered, failed or given up): Redis's clock is read
# after the answer came, so the time recorded is never earlier than the provider's record.
FINISH_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('HSET', KEYS[1], ARGV[1], now)
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return now
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


# How often a call asks again while the call it must be spaced from is still being sent.
IN_FLIGHT_POLL_US = 5_000
# Finish times outlive the longest a gate can need them.
FINISHED_KEEP_MS = 120_000


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
    # How far apart, at the provider, any K + 1 calls must be (µs); 0: K intervals.
    span_us: int = 0

    def window_span_us(self) -> int:
        return self.span_us or self.window_calls * self.interval_us


@dataclass(frozen=True)
class SlotWanted:
    """What ``RateLimiter.reserve`` is asked: a slot under ``key`` at ``per_second``."""

    key: str
    per_second: float
    max_wait_seconds: float
    window_calls: int = 1
    window_span_us: int = 0


class RateLimiter:
    """One GCRA limit per key (for example a caller phone number)."""

    def __init__(self, client: redis.Redis[bytes], *, prefix: str = "orch:rate:") -> None:
        self._client = client
        self._prefix = prefix
        self._epoch_key = prefix + "epoch"
        self._seed = client.register_script(SEED_SCRIPT)
        self._reserve = client.register_script(RESERVE_SCRIPT)
        self._gate = client.register_script(GATE_SCRIPT)
        self._finish = client.register_script(FINISH_SCRIPT)

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

    def reserve(
        self,
        key: str,
        *,
        per_second: float,
        max_wait_seconds: float,
        window_calls: int = 1,
        window_span_us: int = 0,
        now_us: int | None = None,
    ) -> ReserveResult:
        """Hold the next evenly spaced slot under ``per_second`` if it is close enough."""
        wanted = SlotWanted(key, per_second, max_wait_seconds, window_calls, window_span_us)
        return self._reserved(wanted, self._reserve(**self._reserve_call(wanted, now_us)))

    def reserve_many(self, wanted: Sequence[SlotWanted]) -> list[ReserveResult]:
        """``reserve`` for each in turn, in one round trip (a pipeline, not a transaction:
        each script is atomic, and a slot held by a call that then fails is only skipped)."""
        if not wanted:
            return []
        calls = [self._reserve_call(one, None) for one in wanted]  # ValueError before any
        try:
            answers = self._reserve_in_pipeline(calls)
        except redis.exceptions.NoScriptError:
            # Redis lost its scripts (a restart): every reserve of the pipeline failed alike.
            self._client.execute_command("SCRIPT LOAD", RESERVE_SCRIPT)
            answers = self._reserve_in_pipeline(calls)
        return [self._reserved(one, answer) for one, answer in zip(wanted, answers, strict=True)]

    def _reserve_in_pipeline(self, calls: Sequence[dict[str, list[Any]]]) -> list[Any]:
        # EVALSHA itself: a script object in a pipeline asks Redis whether it has the script
        # first, one more round trip each time.
        with self._client.pipeline(transaction=False) as pipe:
            for call in calls:
                keys, args = call["keys"], call["args"]
                pipe.evalsha(RESERVE_SHA, len(keys), *keys, *args)
            return list(pipe.execute())

    def _reserve_call(self, wanted: SlotWanted, now_us: int | None) -> dict[str, list[Any]]:
        if wanted.per_second <= 0:
            raise ValueError("per_second must be positive")
        interval = max(1, round(1_000_000 / wanted.per_second))
        return {
            "keys": [self._prefix + wanted.key, self._epoch_key],
            "args": [
                interval,
                -1 if now_us is None else now_us,
                round(wanted.max_wait_seconds * 1e6),
            ],
        }

    def _reserved(self, wanted: SlotWanted, answer: Any) -> ReserveResult:
        granted, wait_us, now, epoch = answer
        interval = max(1, round(1_000_000 / wanted.per_second))
        window_calls, window_span_us = wanted.window_calls, wanted.window_span_us
        if int(granted) < 0:
            return ReserveResult(False, 0.0, state_lost=True)
        wait = int(wait_us) / 1_000_000
        if not int(granted):
            return ReserveResult(False, wait)
        held = Reservation(
            int(now) + int(wait_us), _text(epoch), interval, window_calls, window_span_us
        )
        return ReserveResult(True, wait, held)

    def check(
        self,
        key: str,
        reservation: Reservation,
        *,
        token: str,
        stale_seconds: float,
    ) -> tuple[ReservationCheck, float]:
        """Pass the gate with a held slot now, or learn how long to wait for it.

        A reservation from before the state was lost is void: the call must queue again.
        Passing the gate counts as sending the call, so it is the last step before sending;
        ``finish`` with the same ``token`` once the create request is over.
        """
        ready, wait_us, epoch = self._gate(
            keys=[
                self._prefix + key + ":sent",
                self._epoch_key,
                self._prefix + key + ":finished",
            ],
            args=[
                reservation.slot_us,
                reservation.interval_us,
                max(1, reservation.window_calls),
                reservation.window_span_us(),
                token,
                round(stale_seconds * 1_000_000),
                IN_FLIGHT_POLL_US,
            ],
        )
        if int(ready) < 0 or _text(epoch) != reservation.epoch:
            return ReservationCheck.VOID, 0.0
        if not int(ready):
            return ReservationCheck.EARLY, int(wait_us) / 1_000_000
        return ReservationCheck.READY, 0.0

    def finish(self, key: str, *, token: str, stale_seconds: float) -> None:
        """The create request of the call let through as ``token`` is over."""
        keep_ms = round(stale_seconds * 1000) + FINISHED_KEEP_MS
        self._finish(keys=[self._prefix + key + ":finished"], args=[token, keep_ms])

    def reset(self, key: str) -> None:
        self._client.delete(self._prefix + key)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
