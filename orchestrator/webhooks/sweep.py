"""Applying stored webhooks in transactions of their own: in batches, or one by one.

An API process applies what it stores right after storing it; one that stopped in between
(a restart, a crash) leaves its last messages stored and waiting. The ``webhooks.apply`` task
applies them, in batches of their own transactions, like the API's applier would have.

A batch that fails is applied again one message at a time, so one message whose application
fails (a fault of ours) cannot hold back the others: that message alone is marked ``failed``,
logged and counted. A database error is not the message's fault; it is left waiting.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, OperationalError

from orchestrator.db import session_scope
from orchestrator.orgs.auth import UnitOfWork
from orchestrator.webhooks import repository
from orchestrator.webhooks.service import (
    APPLY_BATCH,
    FAILED,
    AppliedEvents,
    apply_pending_events,
    mark_failed,
)

logger = logging.getLogger(__name__)


def apply_stored_webhooks(
    *,
    enqueue_dispatch: Callable[[uuid.UUID], None],
    unit_of_work: UnitOfWork = session_scope,
    batch_size: int = APPLY_BATCH,
) -> int:
    """Apply every stored message not applied yet; how many were claimed."""
    claimed = 0
    while True:
        applied = apply_batch_or_each(unit_of_work, batch_size=batch_size)
        # After the commit: the dispatch sees the capacity the batch freed.
        for org_id in sorted(applied.freed_org_ids):
            enqueue_dispatch(org_id)
        claimed += applied.claimed
        if applied.claimed < batch_size:
            return claimed


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
    outcomes: dict[int, str] = {}
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
            outcomes[event_id] = FAILED
            continue
        freed |= applied.freed_org_ids
        outcomes |= applied.outcomes
    return AppliedEvents(outcomes, frozenset(freed), len(event_ids))
