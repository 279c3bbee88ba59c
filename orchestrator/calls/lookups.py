"""When the recovery sweep asks the provider about a call again, and when a call is given up.

A pure function of what the last lookup heard, so every case is tested without a provider:

* ``live``: the provider has the call and it has not ended. Asked again after a wait that
  doubles each time (from ``silence`` up to ``max_silence``): a long conversation costs a few
  lookups, not one every sweep.
* ``found``: the provider's answer settled the call (it ended, or an ambiguous create was
  found or found missing). Nothing more to ask.
* ``not-found``: 404 for a call the provider acknowledged. Providers answer 404 for a call
  created a moment ago on another replica, or during a brief fault, so one 404 proves
  nothing: the call ends (``provider-call-not-found``) only when a second 404 comes at least
  ``confirm`` after the first. Until then it is asked again once ``confirm`` has passed.
* ``failed``: anything else (timeout, 5xx, 429, a refused key). Asked again after an
  exponential backoff, capped, so a provider outage costs a trickle of requests per call.
  A ``failed`` between two 404s does not reset the first 404.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class LookupResult(StrEnum):
    LIVE = "live"
    FOUND = "found"
    NOT_FOUND = "not-found"
    FAILED = "failed"


@dataclass(frozen=True)
class LookupPolicy:
    silence_seconds: float
    max_silence_seconds: float
    retry_base_seconds: float
    retry_max_seconds: float
    confirm_seconds: float


@dataclass(frozen=True)
class LookupState:
    """What the sweep remembers of a call between lookups."""

    failures: int = 0
    not_found_at: datetime | None = None
    # The wait before the latest ``live`` call was asked again (0: never heard live).
    wait_seconds: float = 0.0


@dataclass(frozen=True)
class LookupStep:
    """The state to keep and when to ask next; ``give_up``: end as not found, ask no more."""

    state: LookupState
    next_at: datetime | None
    give_up: bool = False


def next_lookup(
    state: LookupState, result: LookupResult, *, now: datetime, policy: LookupPolicy
) -> LookupStep:
    if result == LookupResult.FOUND:
        return LookupStep(LookupState(), None)
    if result == LookupResult.LIVE:
        wait = min(policy.max_silence_seconds, max(policy.silence_seconds, 2 * state.wait_seconds))
        return LookupStep(LookupState(wait_seconds=wait), now + timedelta(seconds=wait))
    if result == LookupResult.NOT_FOUND:
        return _after_not_found(state, now=now, policy=policy)
    failures = state.failures + 1
    return LookupStep(
        replace(state, failures=failures), now + timedelta(seconds=retry_delay(failures, policy))
    )


def _after_not_found(state: LookupState, *, now: datetime, policy: LookupPolicy) -> LookupStep:
    confirm = timedelta(seconds=policy.confirm_seconds)
    first = state.not_found_at
    if first is not None and now - first >= confirm:
        return LookupStep(state, None, give_up=True)
    if first is None or first > now:
        first = now
    return LookupStep(replace(state, not_found_at=first), first + confirm)


def retry_delay(failures: int, policy: LookupPolicy) -> float:
    """``base``, ``2 x base``, ``4 x base``... up to the cap, after the n-th failure in a row."""
    exponent = min(max(failures - 1, 0), 32)
    return float(min(policy.retry_max_seconds, policy.retry_base_seconds * 2**exponent))
