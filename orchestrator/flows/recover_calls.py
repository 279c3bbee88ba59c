"""Learning from the provider what its webhooks did not tell us: the periodic recovery sweep.

Each run claims at most ``recovery_lookups_per_sweep`` calls of each kind, longest overdue
first, and asks the provider about each once, outside any transaction. What it answers is
applied in short transactions of their own, through the webhook code path (``provider_view``):

* A create whose answer never came (timeout, 5xx, a worker that died mid-send) leaves the call
  ``dialing``. Once no create request can still be under way, the provider's calls for that
  number and time are listed: the call is recorded if the provider has it, and dialed again
  (after the commit) only if it does not. Nobody is dialed twice because of a lost answer.
* A call the provider has that has been silent for ``call_silence_seconds`` (its webhooks
  lost) is looked up with ``GET /call/{id}`` and brought up to date.
* A call the provider no longer knows (404 twice, a minute apart: deleted there, or an API key
  moved to another account) ends with our ``provider-call-not-found`` and frees its capacity.

When a lookup fails its call is asked again after a backoff of its own (``lookups``), so an
outage of the provider costs a trickle of requests, not every call on every sweep; after a few
failures in a row a run stops asking and leaves the rest to the next one.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from orchestrator.calls import lookup_repository
from orchestrator.calls.lookup_repository import SilentCall, UnknownCreate
from orchestrator.calls.lookups import LookupPolicy, LookupResult, LookupState, next_lookup
from orchestrator.calls.recovery import Resolution, find_created_call
from orchestrator.clock import utcnow
from orchestrator.config import Settings, get_settings
from orchestrator.db import UnitOfWork, session_scope
from orchestrator.flows.provider_view import (
    end_call_not_found,
    refresh_silent_call,
    settle_unknown_create,
)
from orchestrator.metrics.service import count
from orchestrator.pacing.service import unfinished_send_stale_seconds
from orchestrator.providers.client import provider_client
from orchestrator.providers.errors import ProviderError, ProviderRejected
from orchestrator.providers.vapi import VapiClient

logger = logging.getLogger(__name__)

EnqueueCalls = Callable[[Sequence[uuid.UUID]], None]

# A run stops asking after this many failed lookups in a row: the provider is down or
# refusing us, and the calls it did not get to are due again at the next run.
FAILURES_BEFORE_STOPPING = 3
# How long a claimed call is kept from other runs while this one asks about it; a run that
# dies leaves its claims due again after this.
CLAIM_LEASE = timedelta(minutes=2)
CREATE_LOOKUP = "create"
SILENT_LOOKUP = "silent"


@dataclass
class RecoverySweep:
    resolved: dict[Resolution, int] = field(default_factory=dict)
    refreshed: int = 0
    redialed: list[uuid.UUID] = field(default_factory=list)
    not_found: list[uuid.UUID] = field(default_factory=list)
    # Lookups made, by kind (create, silent) and result (live, found, not-found, failed).
    lookups: Counter[tuple[str, str]] = field(default_factory=Counter)
    stopped_early: bool = False


def lookup_policy(settings: Settings) -> LookupPolicy:
    return LookupPolicy(
        silence_seconds=settings.call_silence_seconds,
        max_silence_seconds=max(settings.call_silence_max_seconds, settings.call_silence_seconds),
        retry_base_seconds=settings.recovery_retry_base_seconds,
        retry_max_seconds=max(
            settings.recovery_retry_max_seconds, settings.recovery_retry_base_seconds
        ),
        confirm_seconds=settings.provider_not_found_confirm_seconds,
    )


class _Run:
    """One run's budget of failures: enough in a row and the rest is left for later."""

    def __init__(
        self, sweep: RecoverySweep, policy: LookupPolicy, now: datetime, unit: UnitOfWork
    ) -> None:
        self.sweep = sweep
        self.policy = policy
        self.now = now
        self.unit = unit
        self.failures_in_a_row = 0

    def note(self, kind: str, result: LookupResult) -> None:
        self.sweep.lookups[kind, result.value] += 1
        count("orchestrator_provider_lookups", kind=kind, result=result.value)
        self.failures_in_a_row = self.failures_in_a_row + 1 if result == LookupResult.FAILED else 0
        if self.failures_in_a_row >= FAILURES_BEFORE_STOPPING:
            self.sweep.stopped_early = True

    def failed(self, call_id: uuid.UUID, state: LookupState, error: object, kind: str) -> None:
        step = next_lookup(state, LookupResult.FAILED, now=self.now, policy=self.policy)
        assert step.next_at is not None
        with self.unit() as session:
            lookup_repository.save_lookup(
                session, call_id=call_id, state=step.state, next_at=step.next_at, error=str(error)
            )
        wait = (step.next_at - self.now).total_seconds()
        logger.warning(
            "call %s: provider lookup failed (%d in a row), asking again in %.0f s: %s",
            call_id,
            step.state.failures,
            wait,
            error,
        )
        self.note(kind, LookupResult.FAILED)


def resolve_unknown_creates(*, client: VapiClient, run: _Run, limit: int) -> None:
    latest_send = timedelta(seconds=unfinished_send_stale_seconds())
    with run.unit() as session:
        stuck = lookup_repository.claim_unknown_creates(
            session,
            now=run.now,
            dialed_before=run.now - latest_send,
            lease=CLAIM_LEASE,
            limit=limit,
        )
    _work_through(
        stuck, run, CREATE_LOOKUP, partial(_resolve_unknown_create, client, run, latest_send)
    )


def _resolve_unknown_create(
    client: VapiClient, run: _Run, latest_send: timedelta, call: UnknownCreate
) -> None:
    try:
        found = find_created_call(
            client,
            call_id=call.call_id,
            phone_number_id=call.phone_number_id,
            dialed_at=call.dialed_at,
            latest_send=latest_send,
        )
    except ProviderError as error:
        run.failed(call.call_id, call.state, error, CREATE_LOOKUP)
        return
    run.note(CREATE_LOOKUP, LookupResult.FOUND)
    with run.unit() as session:
        resolution = settle_unknown_create(
            session, call_id=call.call_id, dialed_at=call.dialed_at, found=found
        )
    run.sweep.resolved[resolution] = run.sweep.resolved.get(resolution, 0) + 1
    if resolution == Resolution.NOT_CREATED:
        run.sweep.redialed.append(call.call_id)


def refresh_silent_calls(*, client: VapiClient, run: _Run, limit: int) -> None:
    quiet = timedelta(seconds=run.policy.silence_seconds)
    with run.unit() as session:
        silent = lookup_repository.claim_silent_calls(
            session, now=run.now, silence=quiet, lease=CLAIM_LEASE, limit=limit
        )
    _work_through(silent, run, SILENT_LOOKUP, partial(_refresh_silent_call, client, run))


def _refresh_silent_call(client: VapiClient, run: _Run, call: SilentCall) -> None:
    try:
        found = client.get_call(call.provider_call_id)
    except ProviderRejected as error:
        if error.status_code != 404:
            run.failed(call.call_id, call.state, error, SILENT_LOOKUP)
            return
        _not_found(call, run)
        return
    except ProviderError as error:
        run.failed(call.call_id, call.state, error, SILENT_LOOKUP)
        return
    view = found.model_dump(mode="json", by_alias=True)
    result = LookupResult.FOUND if view.get("status") == "ended" else LookupResult.LIVE
    run.note(SILENT_LOOKUP, result)
    step = next_lookup(call.state, result, now=run.now, policy=run.policy)
    with run.unit() as session:
        run.sweep.refreshed += refresh_silent_call(
            session, call_id=call.call_id, provider_call=view
        )
        if step.next_at is None:
            lookup_repository.delete_lookup(session, call_id=call.call_id)
        else:
            lookup_repository.save_lookup(
                session, call_id=call.call_id, state=step.state, next_at=step.next_at
            )


def _not_found(call: SilentCall, run: _Run) -> None:
    run.note(SILENT_LOOKUP, LookupResult.NOT_FOUND)
    step = next_lookup(call.state, LookupResult.NOT_FOUND, now=run.now, policy=run.policy)
    with run.unit() as session:
        if not step.give_up:
            assert step.next_at is not None
            lookup_repository.save_lookup(
                session, call_id=call.call_id, state=step.state, next_at=step.next_at
            )
            return
        ended = end_call_not_found(
            session, call_id=call.call_id, provider_call_id=call.provider_call_id, now=run.now
        )
        lookup_repository.delete_lookup(session, call_id=call.call_id)
    if ended:
        run.sweep.not_found.append(call.call_id)
        logger.warning(
            "call %s (provider id %s) ended as provider-call-not-found: the provider answered "
            "404 for it since %s",
            call.call_id,
            call.provider_call_id,
            call.state.not_found_at,
        )


Claimed = TypeVar("Claimed", SilentCall, UnknownCreate)


def _work_through(
    claimed: Sequence[Claimed], run: _Run, kind: str, handle: Callable[[Claimed], None]
) -> None:
    """Each claimed call once, until the run stops asking; the rest are due again at once."""
    done = 0
    try:
        for call in claimed:
            if run.sweep.stopped_early:
                break
            try:
                handle(call)
            except Exception as error:
                # A fault of ours (or of the database) with this call must not hold up the
                # others, nor keep this call from being asked about again.
                logger.exception("call %s: recovery failed", call.call_id)
                with contextlib.suppress(Exception):
                    run.failed(call.call_id, call.state, error, kind)
            done += 1
    finally:
        if done < len(claimed):
            _release(claimed[done:], run)


def _release(calls: Sequence[SilentCall | UnknownCreate], run: _Run) -> None:
    with run.unit() as session:
        lookup_repository.release_claims(session, call_ids=[c.call_id for c in calls], now=run.now)


def run_recovery(
    *,
    enqueue: EnqueueCalls,
    now: datetime | None = None,
    client: VapiClient | None = None,
    policy: LookupPolicy | None = None,
    limit: int | None = None,
    unit_of_work: UnitOfWork = session_scope,
) -> RecoverySweep:
    settings = get_settings()
    run = _Run(RecoverySweep(), policy or lookup_policy(settings), now or utcnow(), unit_of_work)
    client = client or provider_client()
    limit = limit or settings.recovery_lookups_per_sweep
    with run.unit() as session:
        lookup_repository.delete_settled_lookups(session)
    resolve_unknown_creates(client=client, run=run, limit=limit)
    if run.sweep.redialed:
        enqueue(run.sweep.redialed)
    if not run.sweep.stopped_early:
        refresh_silent_calls(client=client, run=run, limit=limit)
    return run.sweep
