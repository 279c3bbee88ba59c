"""Placing a batch of claimed calls: the database work done once for all of them, each call
still sent on its own, at its own slot, the instant it passes the rate gate.

The steps and their transactions are ``place_call``'s, each made once for the batch:

1. One transaction reads the calls and their numbers' pacing, takes each call's slot, wins
   the compare-and-set of those whose slot is now (or within the rate gate's wait), and builds
   their requests; it commits before anything is sent.
2. One connection holds the org's suppression lock shared from before the send-time check
   until the last create is answered. The check of every call runs in one transaction that
   first locks every recipient of the batch in key order (two batches sharing numbers never
   deadlock), records the attempts of those that may go, and commits before the first send.
3. In slot order, each call takes one of the process's sending threads, passes the rate gate
   and is sent at once on that thread, without waiting for the answer to the call before
   it; each answer's end of send is recorded, and all are in before the suppression lock is
   let go. A call that cannot go within ``SEND_DEADLINE_SECONDS`` of its compare-and-set
   (no thread free, its slot not come) goes back to ``claimed`` at once, its attempt
   forgotten, and is handed back: its dial time stays where the recovery sweep looks.
4. One transaction records the provider's ids (and applies any webhook that came first).

A call that cannot go within the batch (its slot is further off, the provider said 429) is
handed back with what it holds, to be placed on its own by ``place_call`` later. A worker
that dies anywhere in between leaves its calls where ``place_call`` would: ``claimed`` (sent
again by the tick), or ``dialing`` (looked up by the recovery sweep, dialed again only if
the provider has no such call).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache, partial
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.calls import repository
from orchestrator.calls.dialing import begin_dials
from orchestrator.calls.placing import (
    MAX_GATE_WAIT_SECONDS,
    PlaceOutcome,
    PlaceResult,
    finish_send,
    hold_rate_slots,
    pass_rate_gate,
)
from orchestrator.calls.service import record_provider_calls
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.db import UnitOfWork, session_scope
from orchestrator.flows.place_call import TimedCreate, create_timed, settle_failed_create
from orchestrator.gate.decisions import GateDecision
from orchestrator.gate.outcomes import refuse_send
from orchestrator.gate.repository import forget_attempt, lock_recipients, record_attempts
from orchestrator.gate.send import SendTarget, attempt_of, pass_send_gate, send_targets
from orchestrator.metrics.creates import record_call_creates
from orchestrator.models import Campaign, Org
from orchestrator.pacing.limiter import RateLimiter
from orchestrator.pacing.service import pacing_limiter
from orchestrator.providers.errors import ProviderError
from orchestrator.providers.vapi import CreateCallRequest, ProviderCall
from orchestrator.suppression.gate_lock import hold_for_send
from orchestrator.suppression.repository import suppressed_numbers
from orchestrator.webhooks.applying import apply_parked_events_of

logger = logging.getLogger(__name__)

# Creates in flight at once from one worker process, across all its batches. A call takes
# one of them before it passes the rate gate, so no create ever waits after the gate.
SENDER_THREADS = 32
_SENDING_THREADS = threading.BoundedSemaphore(SENDER_THREADS)
# A call not sent this long after its compare-and-set is let go (released, handed back):
# its dial time must stay close to its send, where the recovery sweep looks for it.
SEND_DEADLINE_SECONDS = 2.0
# A call handed back to be placed on its own, with what it holds (its slot, its wait).
HandBack = Callable[[uuid.UUID, PlaceResult], None]


@dataclass
class _Batch:
    """The calls won for dialing, in slot order, and what became of each."""

    held: dict[uuid.UUID, PlaceResult]
    requests: dict[uuid.UUID, CreateCallRequest]
    outcomes: dict[uuid.UUID, PlaceOutcome] = field(default_factory=dict)
    answers: dict[uuid.UUID, ProviderCall] = field(default_factory=dict)
    failed: dict[uuid.UUID, ProviderError] = field(default_factory=dict)
    refused: dict[uuid.UUID, GateDecision] = field(default_factory=dict)
    # Won and checked, but the rate gate said not yet: released, then handed back.
    not_yet: dict[uuid.UUID, PlaceResult] = field(default_factory=dict)
    # When each caller number's latest call here passed the rate gate (monotonic clock).
    passed_at: dict[str, float] = field(default_factory=dict)

    def gate_opens(self, held: PlaceResult) -> float:
        """When the gate may let this call through, as far as the batch knows: half an
        interval after its number's call before it here (the gate's spacing)."""
        passed = self.passed_at.get(held.rate_key)
        if passed is None or held.reservation is None:
            return 0.0
        return passed + held.reservation.interval_us / 2_000_000

    def in_slot_order(self) -> list[uuid.UUID]:
        def slot(call_id: uuid.UUID) -> int:
            reservation = self.held[call_id].reservation
            return reservation.slot_us if reservation is not None else 0

        return sorted(self.requests, key=slot)


def place_calls(
    call_ids: Sequence[uuid.UUID],
    *,
    hand_back: HandBack,
    unit_of_work: UnitOfWork = session_scope,
) -> dict[uuid.UUID, PlaceOutcome]:
    """Place the claimed calls among ``call_ids``; what became of each (WAITING: handed back)."""
    limiter = pacing_limiter()
    batch, outcomes, later = _begin(call_ids, limiter, unit_of_work)
    begun = time.monotonic()
    for call_id, result in later.items():  # after the commit
        hand_back(call_id, result)
    if batch.requests:
        _check_and_send(batch, limiter, unit_of_work, begun=begun)
        _settle(batch, hand_back, unit_of_work)
    return outcomes | batch.outcomes


def _begin(
    call_ids: Sequence[uuid.UUID], limiter: RateLimiter, unit_of_work: UnitOfWork
) -> tuple[_Batch, dict[uuid.UUID, PlaceOutcome], dict[uuid.UUID, PlaceResult]]:
    """Slots for all, then the compare-and-set of those whose slot is (nearly) now; also the
    calls to hand back (their slot is further off), once this has committed."""
    outcomes: dict[uuid.UUID, PlaceOutcome] = {}
    later: dict[uuid.UUID, PlaceResult] = {}
    with unit_of_work() as session:
        held = hold_rate_slots(session, call_ids=call_ids, limiter=limiter)
        ready: dict[uuid.UUID, PlaceResult] = {}
        for call_id, result in held.items():
            if _ready_soon(result):
                ready[call_id] = result
                continue
            outcomes[call_id] = result.outcome
            if result.outcome == PlaceOutcome.WAITING:
                later[call_id] = result
        requests = begin_dials(session, call_ids=list(ready), settings=get_settings())
    outcomes.update((cid, PlaceOutcome.NOT_MINE) for cid in ready if cid not in requests)
    return _Batch({cid: ready[cid] for cid in requests}, requests), outcomes, later


def _ready_soon(result: PlaceResult) -> bool:
    """Holding its slot, or waiting for one the rate gate will wait for within the batch."""
    if result.outcome == PlaceOutcome.HOLDING:
        return True
    return (
        result.outcome == PlaceOutcome.WAITING
        and result.reservation is not None
        and result.retry_after_seconds <= MAX_GATE_WAIT_SECONDS
    )


@contextmanager
def _held_for_sends(
    unit_of_work: UnitOfWork, call_ids: Sequence[uuid.UUID]
) -> Iterator[dict[uuid.UUID, SendTarget]]:
    """``place_call._held_for_send`` for the batch: each org's suppression lock held shared
    on a connection of its own until the block ends, then let go (a rollback)."""
    with unit_of_work() as session:
        targets = send_targets(session, call_ids=call_ids)
        for org_id in sorted({target.org_id for target in targets.values()}):
            hold_for_send(session, org_id=org_id)
        try:
            yield targets
        finally:
            session.rollback()


def _gate_all(
    targets: dict[uuid.UUID, SendTarget], unit_of_work: UnitOfWork
) -> dict[uuid.UUID, GateDecision]:
    """Every call's send-time check in one transaction, committed before the first send.

    The attempts of the calls cleared are written together, except that a number met again
    in the batch has the attempts so far written first, so its next check counts them."""
    with unit_of_work() as session:
        lock_recipients(
            session,
            recipients=[(t.org_id, t.prospect.number) for t in targets.values()],
        )
        now = utcnow()
        listed = _listed(session, targets.values(), now)
        # Held for the whole check: the identity map alone would let them go between calls.
        policies = _policy_rows(session, targets.values())
        decisions: dict[uuid.UUID, GateDecision] = {}
        attempts: list[dict[str, Any]] = []
        numbers: set[tuple[uuid.UUID, str | None]] = set()
        for call_id, target in targets.items():
            recipient = (target.org_id, target.prospect.number)
            if recipient in numbers:
                record_attempts(session, attempts)
                attempts, numbers = [], set()
            decision = pass_send_gate(
                session,
                target=target,
                now=now,
                listed=listed[target.org_id],
                recipient_locked=True,
                record=False,
            )
            decisions[call_id] = decision
            if decision.clear and target.prospect.number is not None:
                attempts.append(attempt_of(target, sent_at=now))
                numbers.add(recipient)
        record_attempts(session, attempts)
        del policies
        return decisions


def _policy_rows(session: Session, targets: Iterable[SendTarget]) -> list[object]:
    """The orgs and campaigns the checks read (each once: then from the session)."""
    org_ids = sorted({target.org_id for target in targets})
    campaign_ids = sorted({t.campaign_id for t in targets if t.campaign_id is not None})
    return [
        *(session.get(Org, org_id) for org_id in org_ids),
        *(session.get(Campaign, campaign_id) for campaign_id in campaign_ids),
    ]


def _listed(
    session: Session, targets: Iterable[SendTarget], now: datetime
) -> dict[uuid.UUID, set[str]]:
    """Each org's numbers among the targets' that are on its suppression list at ``now``: one
    read per org, where each call's check would read its own."""
    forms: dict[uuid.UUID, set[str]] = {}
    for target in targets:
        numbers = target.prospect.listed_as or (target.prospect.number,)
        forms.setdefault(target.org_id, set()).update(n for n in numbers if n is not None)
    return {
        org_id: suppressed_numbers(session, org_id=org_id, numbers=sorted(numbers), now=now)
        for org_id, numbers in forms.items()
    }


def _check_and_send(
    batch: _Batch, limiter: RateLimiter, unit_of_work: UnitOfWork, *, begun: float
) -> None:
    order = batch.in_slot_order()
    with _held_for_sends(unit_of_work, order) as targets:
        decisions = _gate_all(targets, unit_of_work)
        sending: dict[uuid.UUID, Future[TimedCreate]] = {}
        for call_id in order:
            decision = decisions.get(call_id)
            if decision is None:  # the call is gone
                batch.outcomes[call_id] = PlaceOutcome.NOT_MINE
            elif not decision.clear:
                batch.refused[call_id] = decision
            elif (future := _send_when_due(batch, limiter, call_id, begun)) is not None:
                sending[call_id] = future
            else:
                _let_go_unsent(unit_of_work, call_id)
        # Every create answered before the suppression lock is let go.
        wait(sending.values())
    answered = {call_id: _answer_of(future) for call_id, future in sending.items()}
    for call_id, created in answered.items():
        if isinstance(created.answer, ProviderError):
            batch.failed[call_id] = created.answer
        else:
            batch.answers[call_id] = created.answer
    record_call_creates(
        [(targets[cid].org_id, created.error, created.seconds) for cid, created in answered.items()]
    )


def _send_when_due(
    batch: _Batch, limiter: RateLimiter, call_id: uuid.UUID, begun: float
) -> Future[TimedCreate] | None:
    """The call's create, on a sending thread held for it before the rate gate (so it leaves
    the moment the gate lets it through); None when it could not go within
    ``SEND_DEADLINE_SECONDS`` of its compare-and-set (``batch.not_yet`` says why)."""
    left = SEND_DEADLINE_SECONDS - (time.monotonic() - begun)
    if left <= 0 or not _SENDING_THREADS.acquire(timeout=left):
        batch.not_yet[call_id] = PlaceResult(PlaceOutcome.WAITING, 0.0)
        return None
    held = batch.held[call_id]
    not_yet = pass_rate_gate(limiter, held, token=str(call_id), not_before=batch.gate_opens(held))
    if not_yet is not None:
        _SENDING_THREADS.release()
        batch.not_yet[call_id] = not_yet
        return None
    batch.passed_at[held.rate_key] = time.monotonic()
    return _senders().submit(_send, limiter, held, call_id, batch.requests[call_id])


def _send(
    limiter: RateLimiter, held: PlaceResult, call_id: uuid.UUID, request: CreateCallRequest
) -> TimedCreate:
    """One create, sent the moment its call passed the rate gate; its end of send recorded."""
    try:
        return create_timed(request)
    finally:
        finish_send(limiter, held.rate_key, token=str(call_id))
        _SENDING_THREADS.release()


def _answer_of(future: Future[TimedCreate]) -> TimedCreate:
    """The create's answer; one that raised anything else may have reached the provider: it
    is ambiguous, and the call waits for a webhook or the recovery sweep."""
    try:
        return future.result()
    except Exception as error:
        logger.exception("a create failed unexpectedly")
        return TimedCreate(ProviderError(f"create failed: {error!r}", ambiguous=True), 0.0)


def _let_go_unsent(unit_of_work: UnitOfWork, call_id: uuid.UUID) -> None:
    """Checked but not sent: back to ``claimed`` at once, and its attempt forgotten, so no
    other check of its number counts an attempt that never happened."""
    with unit_of_work() as session:
        repository.release_dialing(session, call_id=call_id)
        forget_attempt(session, call_id=call_id)


@lru_cache(maxsize=1)
def _senders() -> ThreadPoolExecutor:
    """The process's threads that send creates: a batch's calls are sent as each passes the
    rate gate, without waiting for the answer to the one before (the gate itself waits for
    the answers it must, at rates where one matters)."""
    return ThreadPoolExecutor(max_workers=SENDER_THREADS, thread_name_prefix="create")


def _settle(batch: _Batch, hand_back: HandBack, unit_of_work: UnitOfWork) -> None:
    """After the last send, with the suppression lock let go: those not sent are handed back,
    the refused settled, the answers recorded (together, or each on its own if that fails),
    then the failed creates. Each part stands alone: one that raises stops none of the
    others (what it left is found by the stale-claim redrive or the recovery sweep)."""
    for call_id, result in batch.not_yet.items():
        batch.outcomes[call_id] = PlaceOutcome.WAITING
        hand_back(call_id, result)
    for call_id, decision in batch.refused.items():
        _each(call_id, partial(_refuse, unit_of_work, call_id, decision))
        batch.outcomes[call_id] = PlaceOutcome.HELD_BACK
    _record_answers(batch, unit_of_work)
    for call_id, error in batch.failed.items():
        result = settle_failed_create(call_id, error, unit_of_work=unit_of_work)
        batch.outcomes[call_id] = result.outcome
        if result.outcome == PlaceOutcome.WAITING:
            hand_back(call_id, result)


def _refuse(unit_of_work: UnitOfWork, call_id: uuid.UUID, decision: GateDecision) -> None:
    with unit_of_work() as session:
        refuse_send(session, call_id=call_id, decision=decision)


def _record_answers(batch: _Batch, unit_of_work: UnitOfWork) -> None:
    answers = {call_id: answer.model_dump() for call_id, answer in batch.answers.items()}
    if not answers:
        return
    batch.outcomes.update(dict.fromkeys(answers, PlaceOutcome.PLACED))
    try:
        _record(unit_of_work, answers)
    except Exception:
        logger.exception("%d answers not recorded together: recording each", len(answers))
        for call_id, answer in answers.items():
            _each(call_id, partial(_record, unit_of_work, {call_id: answer}))


def _record(unit_of_work: UnitOfWork, answers: dict[uuid.UUID, dict[str, Any]]) -> None:
    with unit_of_work() as session:
        calls = record_provider_calls(session, provider_calls=answers)
        # Messages that beat these answers without our metadata waited for the ids.
        apply_parked_events_of(session, calls=calls)


def _each(call_id: uuid.UUID, step: Callable[[], None]) -> None:
    try:
        step()
    except Exception:
        logger.exception("call %s: left for the recovery sweep", call_id)
