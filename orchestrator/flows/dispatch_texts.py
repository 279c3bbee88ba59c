"""The text dispatcher: every beat, queued texts whose time has come are handed to the workers.

This is how texts stored by campaigns, follow-ups and waits are sent (texts stored by the API
are enqueued at once, too). Each claimed text is leased: its ``due_at`` is pushed ahead, and
only the task carrying that lease may send it; a lease that runs out (its task lost) makes the
text due again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.db import UnitOfWork, session_scope
from orchestrator.texts import repository

EnqueueTexts = Callable[[Sequence[tuple[uuid.UUID, datetime]]], None]

# Longer than a text's wait for its rate slot (5 s at most) and its task's queueing.
DISPATCH_LEASE = timedelta(seconds=30)
DISPATCH_BATCH = 500


def dispatch_texts(
    *,
    enqueue: EnqueueTexts,
    now: datetime | None = None,
    limit: int = DISPATCH_BATCH,
    unit_of_work: UnitOfWork = session_scope,
) -> list[uuid.UUID]:
    """Claim up to ``limit`` due texts and enqueue each with its lease, after the commit."""
    now = now or utcnow()
    lease_until = now + DISPATCH_LEASE
    with unit_of_work() as session:
        settings = get_settings()
        claimed = repository.claim_due_texts(
            session,
            now=now,
            lease_until=lease_until,
            limit=limit,
            ahead_seconds=settings.pacing_lookahead_seconds,
            default_rate=settings.default_messages_per_second,
        )
    if claimed:
        enqueue([(chat_id, lease_until) for chat_id in claimed])
    return claimed
