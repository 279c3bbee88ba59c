"""How many calls may start now, and who gets them: every limit at once, shared fairly.

Pure functions over counts the tick read under the org's lock. Limits:

* the org's concurrency limit, over every call in flight (campaigns and ``POST /call``);
* each campaign's ``maxConcurrency``;
* each caller number's ``maxConcurrency`` (over the whole org);
* each caller number's calls per second: the tick claims at most ``lookahead`` seconds of
  the caller number's rate ahead of the limiter, which then spaces the calls exactly.

Campaigns of one org share its capacity by max-min fairness: each free slot goes to the
campaign with the fewest calls in flight, so a big campaign cannot starve a small one.
"""

from __future__ import annotations

import heapq
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class CallerNumberPacing:
    calls_per_second: float
    max_concurrency: int | None


@dataclass(frozen=True)
class CallerNumberLoad:
    in_flight: int = 0
    # Claimed calls not sent yet: they are already waiting for the caller number's rate.
    waiting: int = 0


class HeldBy(StrEnum):
    """The limit that kept a candidate from being claimed (calls in flight, unless a rate)."""

    ORG = "org"
    CAMPAIGN = "campaign"
    PHONE_NUMBER_CONCURRENCY = "phone-number-concurrency"
    PHONE_NUMBER_RATE = "phone-number-rate"


@dataclass(frozen=True)
class CallerNumberRoom:
    """Calls each caller number may start now, and which of its limits sets that."""

    allowances: dict[str | None, int]
    limits: dict[str | None, HeldBy]


@dataclass(frozen=True)
class Candidate:
    """A due contact (or direct call) the tick could claim, in its claimant's due order."""

    id: uuid.UUID
    phone_number_id: str | None
    # The number it would call, when the frequency caps limit how often that may be.
    recipient: str | None = None


@dataclass(frozen=True)
class CampaignDemand:
    campaign_id: uuid.UUID
    in_flight: int
    max_concurrency: int
    candidates: Sequence[Candidate]


def caller_number_allowance(
    pacing: CallerNumberPacing, load: CallerNumberLoad, *, lookahead_seconds: float
) -> int:
    """Calls of one caller number the tick may claim now."""
    ahead = max(1, math.ceil(pacing.calls_per_second * lookahead_seconds)) - load.waiting
    if pacing.max_concurrency is not None:
        ahead = min(ahead, pacing.max_concurrency - load.in_flight)
    return max(0, ahead)


def caller_number_limit(
    pacing: CallerNumberPacing, load: CallerNumberLoad, *, lookahead_seconds: float
) -> HeldBy:
    """Which of a caller number's limits sets its allowance: its rate, or its calls in flight."""
    by_rate = max(1, math.ceil(pacing.calls_per_second * lookahead_seconds)) - load.waiting
    if pacing.max_concurrency is not None and pacing.max_concurrency - load.in_flight < by_rate:
        return HeldBy.PHONE_NUMBER_CONCURRENCY
    return HeldBy.PHONE_NUMBER_RATE


def allocate(
    demands: Sequence[CampaignDemand],
    *,
    org_free: int,
    caller_number_free: Mapping[str | None, int],
    recipient_free: Mapping[str, int] | None = None,
) -> dict[uuid.UUID, list[Candidate]]:
    """Hand out ``org_free`` slots one at a time, each to the least-loaded campaign that can use it.

    A campaign takes its candidates in order, passing over those whose caller number has no slot
    left, or whose number no attempt left under the frequency caps (``recipient_free``; a
    number not in it is not limited): they stay pending. Ties go to the campaign listed first
    (the oldest).
    """
    free = dict(caller_number_free)
    attempts = dict(recipient_free or {})
    chosen: dict[uuid.UUID, list[Candidate]] = {d.campaign_id: [] for d in demands}
    cursor = {d.campaign_id: 0 for d in demands}
    heap = [(d.in_flight, order, d) for order, d in enumerate(demands)]
    heapq.heapify(heap)
    while heap and org_free > 0:
        load, order, demand = heapq.heappop(heap)
        taken = chosen[demand.campaign_id]
        if demand.in_flight + len(taken) >= demand.max_concurrency:
            continue
        pick = _next_candidate(demand, cursor, free, attempts)
        if pick is None:
            continue
        taken.append(pick)
        free[pick.phone_number_id] -= 1
        if pick.recipient in attempts:
            attempts[pick.recipient] -= 1
        org_free -= 1
        heapq.heappush(heap, (load + 1, order, demand))
    return chosen


def _next_candidate(
    demand: CampaignDemand,
    cursor: dict[uuid.UUID, int],
    free: Mapping[str | None, int],
    attempts: Mapping[str, int],
) -> Candidate | None:
    position = cursor[demand.campaign_id]
    candidates = demand.candidates
    while position < len(candidates):
        candidate = candidates[position]
        position += 1
        capped = candidate.recipient is not None and attempts.get(candidate.recipient, 1) <= 0
        if free.get(candidate.phone_number_id, 0) > 0 and not capped:
            cursor[demand.campaign_id] = position
            return candidate
    cursor[demand.campaign_id] = position
    return None


def held_back(
    demands: Sequence[CampaignDemand],
    chosen: Mapping[uuid.UUID, Sequence[Candidate]],
    *,
    org_free: int,
    caller_number_free: Mapping[str | None, int],
    caller_number_limits: Mapping[str | None, HeldBy],
    org_binds: bool = True,
) -> dict[uuid.UUID, HeldBy]:
    """The candidates of ``demands`` that ``allocate`` left, each with the limit that held it.

    Its caller number's, when that has no slot left (``allocate`` passed over it): the one
    ``caller_number_limits`` names (its rate when not named); else its campaign's, when full;
    else the org's, when ``org_free`` is what its limit leaves (``org_binds``). A candidate
    none of them held (the dispatch's own batch was full) is not held back: it is next in
    line. ``chosen`` is everything ``allocate`` handed out.
    """
    left = dict(caller_number_free)
    for picks in chosen.values():
        for pick in picks:
            left[pick.phone_number_id] -= 1
    org_left = org_free - sum(len(picks) for picks in chosen.values())
    held: dict[uuid.UUID, HeldBy] = {}
    for demand in demands:
        picks = chosen.get(demand.campaign_id, ())
        taken = {pick.id for pick in picks}
        full = demand.in_flight + len(picks) >= demand.max_concurrency
        for candidate in demand.candidates:
            if candidate.id in taken:
                continue
            if left.get(candidate.phone_number_id, 0) <= 0:
                caller = candidate.phone_number_id
                held[candidate.id] = caller_number_limits.get(caller, HeldBy.PHONE_NUMBER_RATE)
            elif full:
                held[candidate.id] = HeldBy.CAMPAIGN
            elif org_left <= 0 and org_binds:
                held[candidate.id] = HeldBy.ORG
    return held
