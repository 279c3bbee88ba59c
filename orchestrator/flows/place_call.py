"""Placing one call: a rate slot for its caller number, compare-and-set, commit, ``POST /call``.

Each step runs in a transaction of its own and commits before the next: the call is
``dialing`` (committed) before its request leaves, so a redelivered task finds it taken,
and the provider's answer is recorded in a transaction of its own after it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from orchestrator.calls import repository
from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.placing import (
    PlaceOutcome,
    PlaceResult,
    finish_send,
    hold_rate_slot,
    pass_rate_gate,
)
from orchestrator.calls.service import fail_call, record_provider_call
from orchestrator.config import get_settings
from orchestrator.db import UnitOfWork, session_scope
from orchestrator.decisions.recording import dial_decisions, record_decisions
from orchestrator.gate.decisions import GateDecision
from orchestrator.gate.outcomes import refuse_send
from orchestrator.gate.repository import forget_attempt
from orchestrator.gate.send import SendTarget, pass_send_gate, send_target
from orchestrator.metrics.creates import record_call_create
from orchestrator.metrics.service import count
from orchestrator.pacing.limiter import RateLimiter, Reservation
from orchestrator.pacing.service import pacing_limiter
from orchestrator.providers.client import provider_client
from orchestrator.providers.errors import ProviderError, ProviderRateLimited, ProviderUnreachable
from orchestrator.providers.vapi import CreateCallRequest, ProviderCall
from orchestrator.reasons import PROVIDER_REJECTED
from orchestrator.suppression.gate_lock import hold_for_send
from orchestrator.webhooks.applying import apply_parked_events

logger = logging.getLogger(__name__)

# How long a call waits when the provider said 429 without Retry-After, or was unreachable.
PROVIDER_BUSY_WAIT_SECONDS = 2.0


def settle_failed_create(
    call_id: uuid.UUID, error: ProviderError, *, unit_of_work: UnitOfWork = session_scope
) -> PlaceResult:
    """What a failed create means for the call: wait and retry, look it up later, or fail.

    * Ambiguous (a timeout, a 5xx): the provider may have the call. It stays ``dialing``,
      holding its capacity, until a webhook (our metadata) or the recovery sweep (listing the
      provider's calls) settles it; it is dialed again only if the provider has no such call.
      Its attempt keeps counting against the frequency caps: it may have reached the person.
    * 429 or no connection at all: nothing was created; the call goes back to ``claimed`` and
      comes back when the provider said (``Retry-After``) or shortly.
    * Any other refusal (4xx): the contact fails with the provider's own message.

    Nothing created reached the person: the attempt recorded for it is forgotten.
    """
    if error.ambiguous:
        logger.warning("call %s: create answer unknown, to be looked up: %s", call_id, error)
        count("orchestrator_ambiguous_creates", resolution="pending")
        return PlaceResult(PlaceOutcome.UNKNOWN)
    if isinstance(error, ProviderRateLimited | ProviderUnreachable):
        wait = getattr(error, "retry_after", None) or PROVIDER_BUSY_WAIT_SECONDS
        logger.warning("call %s: provider busy, retrying in %.1f s: %s", call_id, wait, error)
        with unit_of_work() as session:
            repository.release_dialing(session, call_id=call_id)
            forget_attempt(session, call_id=call_id)
        return PlaceResult(PlaceOutcome.WAITING, wait)
    logger.warning("call %s: provider refused the create: %s", call_id, error)
    with unit_of_work() as session:
        forget_attempt(session, call_id=call_id)
        call = repository.get_call_for_update(session, call_id=call_id)
        if call is not None:
            record_decisions(session, dial_decisions([call], reason=PROVIDER_REJECTED))
            fail_call(session, call, reason=PROVIDER_REJECTED, message=error.message[:2000])
    return PlaceResult(PlaceOutcome.FAILED)


@contextmanager
def _held_for_send(unit_of_work: UnitOfWork, call_id: uuid.UUID) -> Iterator[SendTarget | None]:
    """A transaction of its own holds the org's suppression lock shared until the block ends:
    from before the send-time check until the provider has answered the create. It ends (a
    rollback) before that answer is recorded: the webhook applier may hold the call's row
    while it waits for the lock exclusively, to add an opt-out."""
    with unit_of_work() as session:
        target = send_target(session, call_id=call_id)
        if target is not None:
            hold_for_send(session, org_id=target.org_id)
        try:
            yield target
        finally:
            session.rollback()


def _gate(target: SendTarget | None, unit_of_work: UnitOfWork) -> GateDecision | None:
    """The send-time check, committed before the send (None: the call is gone)."""
    if target is None:
        return None
    with unit_of_work() as session:
        return pass_send_gate(session, target=target)


@dataclass
class TimedCreate:
    """The provider's answer to one create (or its error), and how long it took."""

    answer: ProviderCall | ProviderError
    seconds: float

    @property
    def error(self) -> ProviderError | None:
        return self.answer if isinstance(self.answer, ProviderError) else None


def create_timed(request: CreateCallRequest) -> TimedCreate:
    started = time.perf_counter()
    try:
        answer: ProviderCall | ProviderError = provider_client().create_call(request)
    except ProviderError as error:
        answer = error
    return TimedCreate(answer, time.perf_counter() - started)


def _send(
    limiter: RateLimiter,
    held: PlaceResult,
    *,
    call_id: uuid.UUID,
    request: CreateCallRequest,
    unit_of_work: UnitOfWork,
) -> PlaceResult:
    created: TimedCreate | None = None
    with _held_for_send(unit_of_work, call_id) as target:
        decision = _gate(target, unit_of_work)
        if target is not None and decision is not None and decision.clear:
            created = create_timed(request)
    finish_send(limiter, held.rate_key, token=str(call_id))
    if decision is None:
        return PlaceResult(PlaceOutcome.NOT_MINE)
    if target is None or created is None:
        with unit_of_work() as session:
            refuse_send(session, call_id=call_id, decision=decision)
        return PlaceResult(PlaceOutcome.HELD_BACK)
    # Counted once the org's suppression lock is let go: the lock waits on nothing but the send.
    record_call_create(org_id=target.org_id, error=created.error, seconds=created.seconds)
    answer = created.answer
    if isinstance(answer, ProviderError):
        return settle_failed_create(call_id, answer, unit_of_work=unit_of_work)
    with unit_of_work() as session:
        call = record_provider_call(session, call_id=call_id, provider_call=answer.model_dump())
        if call is not None:
            # Messages that beat this answer without our metadata waited for the provider id.
            apply_parked_events(session, call=call)
    return PlaceResult(PlaceOutcome.PLACED)


def place_call(
    call_id: uuid.UUID,
    *,
    reservation: Reservation | None = None,
    unit_of_work: UnitOfWork = session_scope,
) -> PlaceResult:
    """Slot, compare-and-set, gate, send: the gate is passed the instant before sending, after
    the database work, so the provider sees the calls spaced as the gate let them through."""
    limiter = pacing_limiter()
    # One transaction: the slot is read and held (in Redis) while the call is still claimed,
    # then the compare-and-set makes it dialing, committed before anything is sent.
    with unit_of_work() as session:
        held = hold_rate_slot(session, call_id=call_id, limiter=limiter, reservation=reservation)
        if held.outcome != PlaceOutcome.HOLDING:
            return held
        request = begin_dial(session, call_id=call_id, settings=get_settings())
    if request is None:
        return PlaceResult(PlaceOutcome.NOT_MINE)
    not_yet = pass_rate_gate(limiter, held, token=str(call_id))
    if not_yet is not None:
        with unit_of_work() as session:
            repository.release_dialing(session, call_id=call_id)
        return not_yet
    return _send(limiter, held, call_id=call_id, request=request, unit_of_work=unit_of_work)
