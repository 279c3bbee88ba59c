"""What placing one call decides before it is sent: its outcome, its rate slot, the gate.

The slot is taken while the call is still ``claimed``, as the last step before the
compare-and-set, so the time between the limiter's decision and the provider seeing the
call is as short and as steady as it can be. A call that finds no slot is not dialed: its
task comes back when the limiter says the next slot is free. The transactions around these
steps, and the ``POST /call`` itself, are ``flows.place_call``'s.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import redis
from sqlalchemy import Row
from sqlalchemy.orm import Session

from orchestrator.calls import repository
from orchestrator.clock import utcnow
from orchestrator.models import CallStatus
from orchestrator.pacing.limiter import RateLimiter, Reservation, ReservationCheck, ReserveResult
from orchestrator.pacing.service import (
    MAX_RESERVATION_SECONDS,
    caller_number_key,
    ensure_pacing_state,
    reserve_slot,
    slot_wanted,
    unfinished_send_stale_seconds,
)
from orchestrator.phone_numbers.service import pacing_of_caller_numbers
from orchestrator.scheduling.capacity import CallerNumberPacing

logger = logging.getLogger(__name__)

# How long a call waits when the limits cannot be read (Redis down or its state lost).
FAIL_CLOSED_WAIT_SECONDS = 1.0
# The longest a call ready to be sent waits at the rate gate before queueing again.
MAX_GATE_WAIT_SECONDS = 0.25


class PlaceOutcome(StrEnum):
    PLACED = "placed"
    # The create's answer was lost: the recovery sweep finds out whether the call exists.
    UNKNOWN = "unknown"
    NOT_MINE = "not-mine"
    FAILED = "failed"
    # The compliance gate held it back at its send (suppressed, or capped): never sent.
    HELD_BACK = "held-back"
    WAITING = "waiting"
    # The call's slot has come: it may be sent once it passes the rate gate.
    HOLDING = "holding"


@dataclass(frozen=True)
class PlaceResult:
    outcome: PlaceOutcome
    retry_after_seconds: float = 0.0
    # A slot held for this call: the task brings it back when it comes again.
    reservation: Reservation | None = None
    rate_key: str = ""
    # When the slot comes on this process's monotonic clock, as of its reservation (0: not
    # known): the gate is not asked before then, when it could only say "not yet".
    due_at: float = 0.0


def hold_rate_slot(
    session: Session,
    *,
    call_id: uuid.UUID,
    limiter: RateLimiter,
    reservation: Reservation | None = None,
) -> PlaceResult:
    """HOLDING with a slot whose time has come, or why the call cannot go yet."""
    try:
        target = repository.dial_target(session, call_id=call_id)
        if target is None or target[0] != CallStatus.CLAIMED:
            return PlaceResult(PlaceOutcome.NOT_MINE)
        _, org_id, caller_number_id = target
        key = caller_number_key(org_id, caller_number_id)
        if reservation is not None:
            early = (reservation.slot_us - limiter.redis_time_us()) / 1_000_000
            if early > 0:
                return PlaceResult(PlaceOutcome.WAITING, early, reservation, key)
            return PlaceResult(PlaceOutcome.HOLDING, 0.0, reservation, key)
        pacing = pacing_of_caller_numbers(
            session, org_id=org_id, caller_number_ids=[caller_number_id]
        )[caller_number_id]
        if not ensure_pacing_state(session, limiter, now=utcnow()):
            return PlaceResult(PlaceOutcome.WAITING, FAIL_CLOSED_WAIT_SECONDS)
        result = reserve_slot(
            limiter,
            org_id=org_id,
            phone_number_id=caller_number_id,
            per_second=pacing.calls_per_second,
        )
    except redis.RedisError as error:
        logger.warning("call %s waits: pacing state unreadable: %s", call_id, error)
        return PlaceResult(PlaceOutcome.WAITING, FAIL_CLOSED_WAIT_SECONDS)
    return _after_reserving(result, key)


def hold_rate_slots(
    session: Session, *, call_ids: Sequence[uuid.UUID], limiter: RateLimiter
) -> dict[uuid.UUID, PlaceResult]:
    """``hold_rate_slot`` for many calls (none holding a reservation yet), in their order:
    one read of them, one of their numbers' pacing per org, then each call's slot."""
    claimed = {
        row.id: row
        for row in repository.dial_targets(session, call_ids=call_ids)
        if row.status == CallStatus.CLAIMED
    }
    results = {cid: PlaceResult(PlaceOutcome.NOT_MINE) for cid in call_ids if cid not in claimed}
    try:
        pacing = _pacing_by_org(session, claimed.values())
        if claimed and not ensure_pacing_state(session, limiter, now=utcnow()):
            wait = PlaceResult(PlaceOutcome.WAITING, FAIL_CLOSED_WAIT_SECONDS)
            return results | dict.fromkeys(claimed, wait)
    except redis.RedisError as error:
        logger.warning("%d calls wait: pacing state unreadable: %s", len(claimed), error)
        return results | dict.fromkeys(claimed, PlaceResult(PlaceOutcome.WAITING, 1.0))
    order = [cid for cid in call_ids if cid in claimed]
    return results | _reserve_all(limiter, [claimed[cid] for cid in order], pacing)


def _reserve_all(
    limiter: RateLimiter,
    targets: Sequence[DialTarget],
    pacing: dict[uuid.UUID, dict[str | None, CallerNumberPacing]],
) -> dict[uuid.UUID, PlaceResult]:
    """Each call's slot, in the given order, in one round trip to Redis."""
    keys = [caller_number_key(org_id, caller) for _, _, org_id, caller in targets]
    wanted = [
        slot_wanted(key, per_second=pacing[org_id][caller].calls_per_second)
        for key, (_, _, org_id, caller) in zip(keys, targets, strict=True)
    ]
    try:
        reserved = limiter.reserve_many(wanted)
    except redis.RedisError as error:
        logger.warning("%d calls wait: pacing state unreadable: %s", len(targets), error)
        wait = PlaceResult(PlaceOutcome.WAITING, FAIL_CLOSED_WAIT_SECONDS)
        return {target[0]: wait for target in targets}
    answered = time.monotonic()
    return {
        target[0]: _after_reserving(result, key, answered=answered)
        for target, result, key in zip(targets, reserved, keys, strict=True)
    }


DialTarget = Row[uuid.UUID, CallStatus, uuid.UUID, str | None]


def _pacing_by_org(
    session: Session, targets: Iterable[DialTarget]
) -> dict[uuid.UUID, dict[str | None, CallerNumberPacing]]:
    callers: dict[uuid.UUID, set[str | None]] = {}
    for _, _, org_id, caller in targets:
        callers.setdefault(org_id, set()).add(caller)
    return {
        org_id: pacing_of_caller_numbers(session, org_id=org_id, caller_number_ids=list(ids))
        for org_id, ids in callers.items()
    }


def _after_reserving(result: ReserveResult, key: str, *, answered: float = 0.0) -> PlaceResult:
    """What the reservation means for the call; ``answered``: when Redis's answer came, on
    the monotonic clock (the slot is then due ``wait_seconds`` later, or a little sooner)."""
    if result.state_lost or result.reservation is None:
        wait = result.wait_seconds - MAX_RESERVATION_SECONDS
        return PlaceResult(PlaceOutcome.WAITING, max(wait, FAIL_CLOSED_WAIT_SECONDS))
    outcome = PlaceOutcome.WAITING if result.wait_seconds > 0 else PlaceOutcome.HOLDING
    due_at = answered + result.wait_seconds if answered else 0.0
    return PlaceResult(outcome, result.wait_seconds, result.reservation, key, due_at)


def pass_rate_gate(
    limiter: RateLimiter, held: PlaceResult, *, token: str, not_before: float = 0.0
) -> PlaceResult | None:
    """None once the call may be sent this instant; otherwise when to come back.

    A wait of a few milliseconds (the call it must be spaced from is still being answered)
    is spent here, holding the call ready, rather than queueing it again. The gate is not
    asked before the slot is due, nor before ``not_before`` (monotonic clock), when the
    caller knows it would only say "not yet".
    """
    assert held.reservation is not None
    waited = 0.0
    early = max(held.due_at, not_before) - time.monotonic()
    if early > MAX_GATE_WAIT_SECONDS:
        return PlaceResult(PlaceOutcome.WAITING, early, held.reservation, held.rate_key)
    if early > 0:  # the gate would only say when to come back
        time.sleep(early)
        waited = early
    while True:
        try:
            check, wait = limiter.check(
                held.rate_key,
                held.reservation,
                token=token,
                stale_seconds=unfinished_send_stale_seconds(),
            )
        except redis.RedisError:
            return PlaceResult(PlaceOutcome.WAITING, FAIL_CLOSED_WAIT_SECONDS)
        if check == ReservationCheck.READY:
            return None
        if check == ReservationCheck.VOID:
            return PlaceResult(PlaceOutcome.WAITING, 0.0)
        if waited + wait > MAX_GATE_WAIT_SECONDS:
            return PlaceResult(PlaceOutcome.WAITING, wait, held.reservation, held.rate_key)
        time.sleep(wait)
        waited += wait


def finish_send(limiter: RateLimiter, rate_key: str, *, token: str) -> None:
    try:
        limiter.finish(rate_key, token=token, stale_seconds=unfinished_send_stale_seconds())
    except redis.RedisError as error:
        # The gate then counts the send as finished only once it is stale: slower, still safe.
        logger.warning("call %s: end of send not recorded: %s", token, error)
