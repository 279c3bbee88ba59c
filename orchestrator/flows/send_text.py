"""Sending one text: a rate slot for its caller number's texts, compare-and-set, the gate,
``POST /chat``, each step in a transaction of its own, as a call is placed.

The text is ``sending`` (committed) before its request leaves, so a redelivered task finds it
taken; the provider's answer is recorded in a transaction of its own after it. A text whose
answer was lost stays ``sending`` until the lookup sweep (``flows.recover_texts``) settles it.
A task holds the text by a lease (its ``due_at``): the dispatcher's, or its own when the API
enqueued it, so two tasks for one text never both spend a rate slot on it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis

from orchestrator.calls.placing import (
    FAIL_CLOSED_WAIT_SECONDS,
    PlaceOutcome,
    PlaceResult,
    finish_send,
    pass_rate_gate,
)
from orchestrator.clock import utcnow
from orchestrator.db import UnitOfWork, session_scope
from orchestrator.flows.place_call import PROVIDER_BUSY_WAIT_SECONDS
from orchestrator.flows.text_answers import accept_text
from orchestrator.gate.decisions import GateDecision
from orchestrator.gate.repository import forget_attempt
from orchestrator.gate.send import pass_send_gate
from orchestrator.metrics.creates import record_text_create
from orchestrator.metrics.service import count
from orchestrator.models import ChatSession, TextStatus
from orchestrator.pacing.limiter import RateLimiter, Reservation
from orchestrator.pacing.service import (
    MAX_RESERVATION_SECONDS,
    ensure_pacing_state,
    pacing_limiter,
    reserve_slot_under,
    text_number_key,
)
from orchestrator.phone_numbers.service import messages_per_second_of
from orchestrator.providers.client import provider_chats
from orchestrator.providers.errors import ProviderError, ProviderRateLimited, ProviderUnreachable
from orchestrator.suppression.gate_lock import hold_for_send
from orchestrator.texts import repository
from orchestrator.texts.sending import (
    create_body,
    hold_back_text,
    hold_before_send,
    move_text,
    record_refused,
    text_send_target,
)
from orchestrator.texts.states import TextEvent

logger = logging.getLogger(__name__)

# How long a task holds a text it took from the API (the dispatcher's lease is its own).
SEND_LEASE = timedelta(seconds=30)
# How long a later text of a session waits for the earlier ones to be sent.
IN_ORDER_WAIT = timedelta(seconds=2)
# A lease matches the text's ``due_at`` to the microsecond; an API task's due time is "now".
DUE_TOLERANCE = timedelta(seconds=1)


@dataclass(frozen=True)
class TextResult:
    outcome: PlaceOutcome
    retry_after_seconds: float = 0.0
    reservation: Reservation | None = None
    lease_until: datetime | None = None


@dataclass(frozen=True)
class _Held:
    org_id: uuid.UUID
    key: str
    lease_until: datetime
    reservation: Reservation


def _take(
    chat_id: uuid.UUID, lease_until: datetime | None, unit_of_work: UnitOfWork
) -> tuple[uuid.UUID, str | None, datetime, float] | TextResult:
    """The text's (org, caller number, lease, rate) once it is this task's to send."""
    now = utcnow()
    with unit_of_work() as session:
        chat = repository.get_text_for_update(session, chat_id=chat_id)
        if chat is None or chat.delivery_status != TextStatus.QUEUED or chat.due_at is None:
            return TextResult(PlaceOutcome.NOT_MINE)
        if lease_until is not None and chat.due_at != lease_until:
            return TextResult(PlaceOutcome.NOT_MINE)
        if lease_until is None and chat.due_at > now + DUE_TOLERANCE:
            return TextResult(PlaceOutcome.NOT_MINE)  # leased by the dispatcher, or waiting
        earlier_due = repository.earlier_texts_due(session, chat=chat)
        if earlier_due is not None:
            chat.due_at = max(earlier_due, now + IN_ORDER_WAIT)
            return TextResult(PlaceOutcome.NOT_MINE)
        if lease_until is None:
            chat.due_at = lease_until = now + SEND_LEASE
        rate = messages_per_second_of(
            session, org_id=chat.org_id, caller_number_id=chat.phone_number_id
        )
        if not ensure_pacing_state(session, pacing_limiter(), now=now):
            chat.due_at = now + timedelta(seconds=FAIL_CLOSED_WAIT_SECONDS)
            return TextResult(PlaceOutcome.NOT_MINE)
        return chat.org_id, chat.phone_number_id, lease_until, rate


def _wait(chat_id: uuid.UUID, seconds: float, unit_of_work: UnitOfWork) -> TextResult:
    """No slot close enough: the text is due again then, and the dispatcher sends it."""
    with unit_of_work() as session:
        chat = repository.get_text_for_update(session, chat_id=chat_id)
        if chat is not None and chat.delivery_status == TextStatus.QUEUED:
            chat.due_at = utcnow() + timedelta(seconds=seconds)
    return TextResult(PlaceOutcome.WAITING, seconds)


def hold_text_slot(
    chat_id: uuid.UUID,
    *,
    limiter: RateLimiter,
    lease_until: datetime | None,
    reservation: Reservation | None,
    unit_of_work: UnitOfWork,
) -> _Held | TextResult:
    taken = _take(chat_id, lease_until, unit_of_work)
    if isinstance(taken, TextResult):
        return taken
    org_id, caller_number_id, lease, rate = taken
    key = text_number_key(org_id, caller_number_id)
    try:
        if reservation is None:
            result = reserve_slot_under(limiter, key, per_second=rate)
            if result.reservation is None:
                wait = max(result.wait_seconds - MAX_RESERVATION_SECONDS, FAIL_CLOSED_WAIT_SECONDS)
                return _wait(chat_id, wait, unit_of_work)
            reservation = result.reservation
        early = (reservation.slot_us - limiter.redis_time_us()) / 1_000_000
    except redis.RedisError as error:
        logger.warning("text %s waits: pacing state unreadable: %s", chat_id, error)
        return _wait(chat_id, FAIL_CLOSED_WAIT_SECONDS, unit_of_work)
    if early > 0:
        return TextResult(PlaceOutcome.WAITING, early, reservation, lease)
    return _Held(org_id, key, lease, reservation)


def _begin(
    chat_id: uuid.UUID, lease_until: datetime, unit_of_work: UnitOfWork
) -> dict[str, Any] | PlaceOutcome:
    """Compare-and-set ``queued`` → ``sending``: the request to send, or why there is none
    (not ours; held back: no number, its campaign paused or over)."""
    now = utcnow()
    with unit_of_work() as session:
        chat = repository.get_text_for_update(session, chat_id=chat_id)
        if chat is None or chat.due_at != lease_until:
            return PlaceOutcome.NOT_MINE
        if chat.delivery_status == TextStatus.QUEUED and hold_before_send(
            session, chat=chat, now=now
        ):
            return PlaceOutcome.HELD_BACK
        chat_session = session.get(ChatSession, chat.session_id) if chat.session_id else None
        provider_session_id = chat_session.provider_session_id if chat_session else None
        # Until the gate lets it go, its staleness counts from this attempt (``updated_at``).
        if not move_text(chat, TextEvent.SEND, now=now, sent_at=None):
            return PlaceOutcome.NOT_MINE
        return create_body(chat, provider_session_id)


def _release(chat_id: uuid.UUID, unit_of_work: UnitOfWork, *, due_at: datetime) -> None:
    with unit_of_work() as session:
        chat = repository.get_text_for_update(session, chat_id=chat_id)
        if chat is not None:
            move_text(chat, TextEvent.RELEASE, now=utcnow(), due_at=due_at)
            forget_attempt(session, call_id=chat_id)


@contextmanager
def _held_for_send(unit_of_work: UnitOfWork, org_id: uuid.UUID) -> Iterator[None]:
    """The org's suppression lock, shared, from before the check until the provider answered."""
    with unit_of_work() as session:
        hold_for_send(session, org_id=org_id)
        try:
            yield
        finally:
            session.rollback()


def _gate(chat_id: uuid.UUID, lease: datetime, unit_of_work: UnitOfWork) -> GateDecision | None:
    """The send-time check, committed before the send (None: the text is not this task's to
    send: the lookup sweep or another task's lease took it meanwhile, both moving its
    ``due_at``); a text it holds back ends or waits in the same transaction."""
    with unit_of_work() as session:
        chat = repository.get_text_for_update(session, chat_id=chat_id)
        if chat is None or chat.delivery_status != TextStatus.SENDING or chat.due_at != lease:
            return None
        decision = pass_send_gate(session, target=text_send_target(session, chat=chat))
        if decision.clear:
            chat.sent_at = utcnow()
        else:
            hold_back_text(session, chat=chat, decision=decision, now=utcnow())
        return decision


def _create(body: dict[str, Any]) -> dict[str, Any] | ProviderError:
    try:
        return provider_chats().create_chat(body)
    except ProviderError as error:
        return error


def settle_failed_text(
    chat_id: uuid.UUID, error: ProviderError, *, unit_of_work: UnitOfWork = session_scope
) -> PlaceOutcome:
    """Ambiguous: it stays ``sending`` until looked up. 429 or unreachable: back to
    ``queued``, due when the provider said. Any other refusal: ``failed`` with its message."""
    if error.ambiguous:
        logger.warning("text %s: create answer unknown, to be looked up: %s", chat_id, error)
        count("orchestrator_ambiguous_text_creates", resolution="pending")
        return PlaceOutcome.UNKNOWN
    if isinstance(error, ProviderRateLimited | ProviderUnreachable):
        wait = getattr(error, "retry_after", None) or PROVIDER_BUSY_WAIT_SECONDS
        logger.warning("text %s: provider busy, retrying in %.1f s: %s", chat_id, wait, error)
        _release(chat_id, unit_of_work, due_at=utcnow() + timedelta(seconds=wait))
        return PlaceOutcome.WAITING
    logger.warning("text %s: provider refused the create: %s", chat_id, error)
    with unit_of_work() as session:
        forget_attempt(session, call_id=chat_id)
        chat = repository.get_text_for_update(session, chat_id=chat_id)
        if chat is not None:
            record_refused(session, chat=chat, message=error.message, now=utcnow())
    return PlaceOutcome.FAILED


def _send(
    chat_id: uuid.UUID, held: _Held, body: dict[str, Any], limiter: RateLimiter, unit: UnitOfWork
) -> TextResult:
    """The send-time check, then the rate gate, then the create: the gate's window at the
    provider then holds the create alone, not the database's work before it."""
    answer: dict[str, Any] | ProviderError | None = None
    not_yet: PlaceResult | None = None
    with _held_for_send(unit, held.org_id):
        decision = _gate(chat_id, held.lease_until, unit)
        if decision is not None and decision.clear:
            slot = PlaceResult(PlaceOutcome.HOLDING, 0.0, held.reservation, held.key)
            not_yet = pass_rate_gate(limiter, slot, token=str(chat_id))
            if not_yet is None:
                answer = _create(body)
    if decision is None:
        return TextResult(PlaceOutcome.NOT_MINE)
    if not_yet is not None:
        # Not sent: back in line, its attempt forgotten, the task back at its slot.
        _release(chat_id, unit, due_at=held.lease_until)
        return TextResult(
            PlaceOutcome.WAITING, not_yet.retry_after_seconds, not_yet.reservation, held.lease_until
        )
    if answer is None:
        return TextResult(PlaceOutcome.HELD_BACK)
    finish_send(limiter, held.key, token=str(chat_id))
    record_text_create(answer if isinstance(answer, ProviderError) else None)
    if isinstance(answer, ProviderError):
        return TextResult(settle_failed_text(chat_id, answer, unit_of_work=unit))
    with unit() as session:
        chat = repository.get_text_for_update(session, chat_id=chat_id)
        if chat is not None:
            accept_text(session, chat=chat, answer=answer, now=utcnow())
    return TextResult(PlaceOutcome.PLACED)


def send_text(
    chat_id: uuid.UUID,
    *,
    lease_until: datetime | None = None,
    reservation: Reservation | None = None,
    unit_of_work: UnitOfWork = session_scope,
) -> TextResult:
    """Slot, compare-and-set, gate, send: the gate is passed the instant before sending."""
    limiter = pacing_limiter()
    held = hold_text_slot(
        chat_id,
        limiter=limiter,
        lease_until=lease_until,
        reservation=reservation,
        unit_of_work=unit_of_work,
    )
    if isinstance(held, TextResult):
        return held
    body = _begin(chat_id, held.lease_until, unit_of_work)
    if isinstance(body, PlaceOutcome):
        return TextResult(body)
    return _send(chat_id, held, body, limiter, unit_of_work)
