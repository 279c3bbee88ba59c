"""Provider messages stored once each, counted by type and outcome, and timed to their
application.

A message delivered twice is stored once: its dedupe key is taken by the first, and a repeat
(in the same batch or a later one) is a duplicate, counted and not stored again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import anyio.to_thread
import psycopg
from sqlalchemy.orm import Session

from orchestrator.metrics.histograms import observe
from orchestrator.metrics.service import count
from orchestrator.models import WebhookOutcome
from orchestrator.webhooks import repository
from orchestrator.webhooks.messages import counted_type
from orchestrator.webhooks.repository import NewEvent

APPLY_LAG = "orchestrator_webhook_apply_lag_seconds"


def _stored_ids(
    events: Sequence[NewEvent], stored: dict[str, int]
) -> tuple[list[int | None], Counter[tuple[str, WebhookOutcome]]]:
    """Per message its event id or None (a duplicate), and the tally of what was not applied."""
    stored = dict(stored)
    ids: list[int | None] = []
    tally: Counter[tuple[str, WebhookOutcome]] = Counter()
    for event in events:
        # A key stored by this batch belongs to its first message; a repeat is a duplicate.
        event_id = stored.pop(event.dedupe_key, None)
        ids.append(event_id)
        if event_id is None:
            tally[counted_type(event.message_type), WebhookOutcome.DUPLICATE] += 1
        elif event.outcome == WebhookOutcome.IGNORED:
            tally[counted_type(event.message_type), WebhookOutcome.IGNORED] += 1
    return ids, tally


def store_events(session: Session, events: Sequence[NewEvent]) -> list[int | None]:
    """Store a batch of messages once each: per message its event id, or None (a duplicate).

    Applied types are left pending for ``apply_pending_events``; others are stored ignored.
    """
    ids, tally = _stored_ids(events, repository.store_events(session, events))
    count_events(tally)
    return ids


async def store_events_async(
    connection: psycopg.AsyncConnection[Any], events: Sequence[NewEvent]
) -> list[int | None]:
    """``store_events`` on an asyncio connection; the event loop never waits on the metrics."""
    stored = await repository.store_events_async(connection, events)
    ids, tally = _stored_ids(events, stored)
    if tally:
        await anyio.to_thread.run_sync(count_events, tally)
    return ids


def count_events(tally: Counter[tuple[str, WebhookOutcome]]) -> None:
    """Count messages by (counted type, outcome)."""
    for (message_type, outcome), amount in tally.items():
        count("orchestrator_webhook_events", amount, type=message_type, outcome=outcome)


def observe_apply_lag(lags: Sequence[float]) -> None:
    """Seconds each applied message waited since it was stored."""
    observe(APPLY_LAG, *lags)
