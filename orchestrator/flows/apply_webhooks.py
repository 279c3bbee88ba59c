"""The webhook applier: stored provider messages applied in transactions of their own.

The ``webhooks.apply`` task applies what the API stored: the API asks for it after storing
(coalesced), and the beat runs it every few seconds in case a request was lost. One applier
works at a time (``apply_stored_webhooks_exclusively``): the batches of one grow with the
backlog, and a call's messages fold into one update; several would split them and contend
for the same rows. A request that finds one working leaves it a note, and it drains again.

A batch that fails is applied again one message at a time, so one message whose application
fails (a fault of ours) cannot hold back the others: that message alone is marked ``failed``,
logged and counted. A database error is not the message's fault; it is left waiting.

In ``inline`` apply mode the API applies each batch it stores itself, in the same unit of
work (``InlineStore``), and no applier is needed.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import anyio.to_thread
import redis
from sqlalchemy.exc import DBAPIError, OperationalError

from orchestrator.config import get_settings
from orchestrator.db import UnitOfWork, session_scope
from orchestrator.models import WebhookOutcome
from orchestrator.webhooks import repository
from orchestrator.webhooks.applying import (
    APPLY_BATCH,
    AppliedEvents,
    apply_pending_events,
    mark_failed,
)
from orchestrator.webhooks.intake import StoredBatch
from orchestrator.webhooks.repository import NewEvent
from orchestrator.webhooks.storing import store_events

logger = logging.getLogger(__name__)

APPLIER_LOCK_KEY = "orch:webhooks:applier"
APPLY_WANTED_KEY = "orch:webhooks:apply-wanted"
# Set while a ``webhooks.apply`` task the API asked for waits in the queue: the API asks again
# only once it has been taken, not every few milliseconds of a stream of webhooks (each such
# task would find the work done). A task lost while it is set is covered by the beat's sweep.
APPLY_QUEUED_KEY = "orch:webhooks:apply-queued"
APPLY_QUEUED_SECONDS = 5
# An org's ticks come every second; capacity freed in between is reused this much sooner.
REDISPATCH_SECONDS = 0.5
# An applier renews its lock after every batch; one that died frees it after this long.
APPLIER_LOCK_SECONDS = 30


def request_applier(client: redis.Redis[bytes], enqueue: Callable[[], None]) -> bool:
    """Have the stored webhooks applied: ``enqueue`` a task, unless one is already waiting.
    True when one was sent. Without Redis's answer it is sent anyway."""
    try:
        first = bool(client.set(APPLY_QUEUED_KEY, 1, nx=True, ex=APPLY_QUEUED_SECONDS))
    except redis.RedisError:
        first = True
    if first:
        enqueue()
    return first


@lru_cache(maxsize=1)
def applier_redis() -> redis.Redis[bytes]:
    """One Redis connection pool per process, created lazily (after a worker forks)."""
    return redis.Redis.from_url(
        get_settings().redis_url, socket_timeout=5, socket_connect_timeout=5
    )


def apply_stored_webhooks(
    *,
    enqueue_dispatch: Callable[[uuid.UUID], None],
    unit_of_work: UnitOfWork = session_scope,
    batch_size: int = APPLY_BATCH,
    after_batch: Callable[[], None] = lambda: None,
) -> int:
    """Apply every stored message not applied yet; how many were claimed."""
    dispatch = _PacedDispatch(enqueue_dispatch)
    try:
        return _drain(dispatch, unit_of_work, batch_size=batch_size, after_batch=after_batch)
    finally:
        dispatch.finish()


def _drain(
    dispatch: _PacedDispatch,
    unit_of_work: UnitOfWork,
    *,
    batch_size: int,
    after_batch: Callable[[], None],
) -> int:
    claimed = 0
    while True:
        applied = apply_batch_or_each(unit_of_work, batch_size=batch_size)
        # After the commit: the dispatch sees the capacity the batch freed.
        dispatch.freed(applied.freed_org_ids)
        claimed += applied.claimed
        after_batch()
        if applied.claimed < batch_size:
            return claimed


class _PacedDispatch:
    """Dispatches orgs whose capacity was freed: at once, then (while a backlog is worked
    off, batch after batch) at most every ``REDISPATCH_SECONDS`` per org, and once more at
    the end for what was freed since its last dispatch."""

    def __init__(self, enqueue: Callable[[uuid.UUID], None]) -> None:
        self._enqueue = enqueue
        self._last: dict[uuid.UUID, float] = {}
        self._owed: set[uuid.UUID] = set()

    def freed(self, org_ids: Iterable[uuid.UUID]) -> None:
        now = time.monotonic()
        for org_id in sorted(org_ids):
            last = self._last.get(org_id)
            if last is None or now - last >= REDISPATCH_SECONDS:
                self._last[org_id] = now
                self._owed.discard(org_id)
                self._enqueue(org_id)
            else:
                self._owed.add(org_id)

    def finish(self) -> None:
        owed, self._owed = sorted(self._owed), set()
        for org_id in owed:
            self._enqueue(org_id)


def apply_stored_webhooks_exclusively(
    client: redis.Redis[bytes],
    *,
    enqueue_dispatch: Callable[[uuid.UUID], None],
    unit_of_work: UnitOfWork = session_scope,
    batch_size: int = APPLY_BATCH,
) -> int:
    """``apply_stored_webhooks``, unless another applier is at it: then it will do it.

    Whatever was stored before this call is applied by this call or by the applier at work:
    that one checks for a note after letting go of its lock, and this one, after leaving the
    note, tries the lock once more, so one of the two sees the other.
    """
    client.delete(APPLY_QUEUED_KEY)
    lock = client.lock(APPLIER_LOCK_KEY, timeout=APPLIER_LOCK_SECONDS)
    dispatch = _PacedDispatch(enqueue_dispatch)
    claimed = 0
    try:
        while True:
            if not lock.acquire(blocking=False):
                client.set(APPLY_WANTED_KEY, 1, ex=APPLIER_LOCK_SECONDS)
                if not lock.acquire(blocking=False):
                    return claimed
            try:
                client.delete(APPLY_WANTED_KEY)
                claimed += _drain(
                    dispatch, unit_of_work, batch_size=batch_size, after_batch=lambda: _renew(lock)
                )
            finally:
                _release(lock)
            if not client.exists(APPLY_WANTED_KEY):
                return claimed
    finally:
        dispatch.finish()


def _renew(lock: redis.lock.Lock) -> None:
    try:
        lock.reacquire()
    except redis.exceptions.LockError:
        logger.warning("the webhook applier's lock expired while it worked")


def _release(lock: redis.lock.Lock) -> None:
    try:
        lock.release()
    except redis.exceptions.LockError:
        # It expired while a batch ran long: another applier may have worked beside this one,
        # which is safe (events are claimed with SKIP LOCKED), only slower.
        logger.warning("the webhook applier's lock expired while it worked")


def _database_unavailable(error: Exception) -> bool:
    """A lost connection, a deadlock, a server going away: worth retrying later as it is."""
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


def apply_batch_or_each(
    unit_of_work: UnitOfWork, *, batch_size: int = APPLY_BATCH
) -> AppliedEvents:
    """One batch of pending messages in one transaction; if it fails, each alone."""
    try:
        with unit_of_work() as session:
            return apply_pending_events(session, limit=batch_size)
    except Exception as error:
        if _database_unavailable(error):
            raise
        logger.warning("applying stored webhooks together failed", exc_info=True)
    return apply_each(unit_of_work, batch_size=batch_size)


def apply_each(unit_of_work: UnitOfWork, *, batch_size: int) -> AppliedEvents:
    """Each pending message in a transaction of its own; one that fails is marked failed."""
    with unit_of_work() as session:
        event_ids = repository.pending_event_ids(session, limit=batch_size)
    freed: set[uuid.UUID] = set()
    outcomes: dict[int, WebhookOutcome] = {}
    for event_id in event_ids:
        try:
            with unit_of_work() as session:
                applied = apply_pending_events(session, event_ids=[event_id])
        except Exception as error:
            if _database_unavailable(error):
                raise
            logger.exception("stored webhook %s could not be applied; marked failed", event_id)
            with unit_of_work() as session:
                mark_failed(session, event_id=event_id)
            outcomes[event_id] = WebhookOutcome.FAILED
            continue
        freed |= applied.freed_org_ids
        outcomes |= applied.outcomes
    return AppliedEvents(outcomes, frozenset(freed), len(event_ids))


class InlineStore:
    """Stores and applies each batch of the intake in one unit of work, in a worker thread."""

    def __init__(self, unit_of_work: UnitOfWork) -> None:
        self._unit_of_work = unit_of_work

    async def store(self, events: Sequence[NewEvent]) -> StoredBatch:
        return await anyio.to_thread.run_sync(self._store_and_apply, events)

    def _store_and_apply(self, events: Sequence[NewEvent]) -> StoredBatch:
        with self._unit_of_work() as session:
            stored = [event_id for event_id in store_events(session, events) if event_id]
            if not stored:
                return StoredBatch()
            return StoredBatch(apply_pending_events(session, event_ids=stored).freed_org_ids)

    async def close(self) -> None:
        return None
