"""Placing one call: a rate slot for its caller number, compare-and-set, commit, ``POST /call``.

The slot is taken while the call is still ``claimed``, as the last step before the
compare-and-set, so the time between the limiter's decision and the provider seeing the
call is as short and as steady as it can be. A call that finds no slot is not dialed: its
task comes back when the limiter says the next slot is free.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import redis
from sqlalchemy.orm import Session

from orchestrator.calls import repository
from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.service import fail_call, record_provider_call
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.db import session_scope
from orchestrator.metrics.service import count
from orchestrator.models import CallStatus
from orchestrator.pacing.limiter import RateLimiter, Reservation, ReservationCheck, ReserveResult
from orchestrator.pacing.service import (
    MAX_RESERVATION_SECONDS,
    caller_number_key,
    ensure_pacing_state,
    pacing_limiter,
    reserve_slot,
    unfinished_send_stale_seconds,
)
from orchestrator.phone_numbers.service import pacing_of_caller_numbers
from orchestrator.providers.errors import ProviderError, ProviderRateLimited, ProviderUnreachable
from orchestrator.providers.vapi import CreateCallRequest, VapiClient
from orchestrator.reasons import PROVIDER_REJECTED
from orchestrator.webhooks.applying import apply_parked_events

logger = logging.getLogger(__name__)

# How long a call waits when the provider said 429 without Retry-After, or was unreachable.
PROVIDER_BUSY_WAIT_SECONDS = 2.0
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


@lru_cache(maxsize=1)
def provider_client() -> VapiClient:
    """One pooled client per worker process (created lazily, after the fork)."""
    settings = get_settings()
    return VapiClient(
        base_url=settings.provider_base_url,
        api_key=settings.provider_api_key,
        timeout=settings.provider_timeout_seconds,
    )


def warm_up_provider_client() -> None:
    """Open the provider connection before the first call needs it.

    A cold first request (connection, first-use setup) is slower than the rest; were the
    first call of a worker delayed that way, it could reach the provider bunched up with the
    calls the rate gate let through after it.
    """
    try:
        provider_client().list_calls(limit=1)
    except ProviderError as error:
        logger.warning("provider not reachable yet: %s", error)


def settle_failed_create(call_id: uuid.UUID, error: ProviderError) -> PlaceResult:
    """What a failed create means for the call: wait and retry, look it up later, or fail.

    * Ambiguous (a timeout, a 5xx): the provider may have the call. It stays ``dialing``,
      holding its capacity, until a webhook (our metadata) or the recovery sweep (listing the
      provider's calls) settles it; it is dialed again only if the provider has no such call.
    * 429 or no connection at all: nothing was created; the call goes back to ``claimed`` and
      comes back when the provider said (``Retry-After``) or shortly.
    * Any other refusal (4xx): the contact fails with the provider's own message.
    """
    if error.ambiguous:
        logger.warning("call %s: create answer unknown, to be looked up: %s", call_id, error)
        count("orchestrator_ambiguous_creates", resolution="pending")
        return PlaceResult(PlaceOutcome.UNKNOWN)
    if isinstance(error, ProviderRateLimited | ProviderUnreachable):
        wait = getattr(error, "retry_after", None) or PROVIDER_BUSY_WAIT_SECONDS
        logger.warning("call %s: provider busy, retrying in %.1f s: %s", call_id, wait, error)
        with session_scope() as session:
            repository.release_dialing(session, call_id=call_id)
        return PlaceResult(PlaceOutcome.WAITING, wait)
    logger.warning("call %s: provider refused the create: %s", call_id, error)
    with session_scope() as session:
        call = repository.get_call_for_update(session, call_id=call_id)
        if call is not None:
            fail_call(session, call, reason=PROVIDER_REJECTED, message=error.message[:2000])
    return PlaceResult(PlaceOutcome.FAILED)


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


def _after_reserving(result: ReserveResult, key: str) -> PlaceResult:
    if result.state_lost or result.reservation is None:
        wait = result.wait_seconds - MAX_RESERVATION_SECONDS
        return PlaceResult(PlaceOutcome.WAITING, max(wait, FAIL_CLOSED_WAIT_SECONDS))
    outcome = PlaceOutcome.WAITING if result.wait_seconds > 0 else PlaceOutcome.HOLDING
    return PlaceResult(outcome, result.wait_seconds, result.reservation, key)


def pass_rate_gate(limiter: RateLimiter, held: PlaceResult, *, token: str) -> PlaceResult | None:
    """None once the call may be sent this instant; otherwise when to come back.

    A wait of a few milliseconds (the call it must be spaced from is still being answered)
    is spent here, holding the call ready, rather than queueing it again.
    """
    assert held.reservation is not None
    waited = 0.0
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


def _finish_send(limiter: RateLimiter, rate_key: str, *, token: str) -> None:
    try:
        limiter.finish(rate_key, token=token, stale_seconds=unfinished_send_stale_seconds())
    except redis.RedisError as error:
        # The gate then counts the send as finished only once it is stale: slower, still safe.
        logger.warning("call %s: end of send not recorded: %s", token, error)


def _send(
    limiter: RateLimiter, held: PlaceResult, *, call_id: uuid.UUID, request: CreateCallRequest
) -> PlaceResult:
    token = str(call_id)
    try:
        created = provider_client().create_call(request)
    except ProviderError as error:
        _finish_send(limiter, held.rate_key, token=token)
        return settle_failed_create(call_id, error)
    _finish_send(limiter, held.rate_key, token=token)
    with session_scope() as session:
        call = record_provider_call(session, call_id=call_id, provider_call=created.model_dump())
        if call is not None:
            # Messages that beat this answer without our metadata waited for the provider id.
            apply_parked_events(session, call=call)
    return PlaceResult(PlaceOutcome.PLACED)


def place_call(call_id: uuid.UUID, *, reservation: Reservation | None = None) -> PlaceResult:
    """Slot, compare-and-set, gate, send: the gate is passed the instant before sending, after
    the database work, so the provider sees the calls spaced as the gate let them through."""
    limiter = pacing_limiter()
    with session_scope() as session:
        held = hold_rate_slot(session, call_id=call_id, limiter=limiter, reservation=reservation)
    if held.outcome != PlaceOutcome.HOLDING:
        return held
    with session_scope() as session:
        request = begin_dial(session, call_id=call_id, settings=get_settings())
    if request is None:
        return PlaceResult(PlaceOutcome.NOT_MINE)
    not_yet = pass_rate_gate(limiter, held, token=str(call_id))
    if not_yet is not None:
        with session_scope() as session:
            repository.release_dialing(session, call_id=call_id)
        return not_yet
    return _send(limiter, held, call_id=call_id, request=request)
