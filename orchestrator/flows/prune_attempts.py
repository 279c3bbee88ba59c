"""Clearing out the attempt ledger: attempts older than any frequency cap can look back on
(``MAX_CAP_PERIOD_SECONDS``) count against none. Runs with the periodic reconciliation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from orchestrator.clock import utcnow
from orchestrator.db import UnitOfWork, session_scope
from orchestrator.gate.repository import prune_attempts
from orchestrator.policy.schemas import MAX_CAP_PERIOD_SECONDS

PRUNE_BATCH = 10_000


def prune_old_attempts(
    *, unit_of_work: UnitOfWork = session_scope, clock: Callable[[], datetime] = utcnow
) -> int:
    """A batch a transaction, until none is left; how many went (nothing to do costs one
    empty index range)."""
    before = clock() - timedelta(seconds=MAX_CAP_PERIOD_SECONDS)
    deleted = 0
    while True:
        with unit_of_work() as session:
            batch = prune_attempts(session, before=before, limit=PRUNE_BATCH)
        deleted += batch
        if batch < PRUNE_BATCH:
            return deleted
