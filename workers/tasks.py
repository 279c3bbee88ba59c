"""Thin, idempotent task shells: open a session, re-check state, call a service."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from celery import Task

from orchestrator.calls.placing import PlaceOutcome, place_call
from orchestrator.scheduling.runner import dispatch_campaign_org, run_tick
from workers.celery_app import celery_app

logger = logging.getLogger(__name__)


def enqueue_place_calls(call_ids: Sequence[uuid.UUID]) -> None:
    for call_id in call_ids:
        place_call_task.delay(str(call_id))


def enqueue_dispatch(campaign_id: uuid.UUID) -> None:
    dispatch_campaign_task.delay(str(campaign_id))


@celery_app.task(name="scheduler.tick")
def scheduler_tick_task() -> int:
    results = run_tick(enqueue=enqueue_place_calls)
    return sum(len(r.call_ids) for r in results)


@celery_app.task(name="campaigns.dispatch")
def dispatch_campaign_task(campaign_id: str) -> int:
    result = dispatch_campaign_org(uuid.UUID(campaign_id), enqueue=enqueue_place_calls)
    return len(result.call_ids) if result is not None else 0


# A call waiting for its number's next calls-per-second slot comes back exactly when the
# limiter says, as a new message: it holds no worker while it waits, and never dials early.
@celery_app.task(name="calls.place", bind=True, max_retries=None)
def place_call_task(self: Task[[str], str], call_id: str) -> str:
    result = place_call(uuid.UUID(call_id))
    if result.outcome == PlaceOutcome.WAITING:
        raise self.retry(countdown=result.retry_after_seconds)
    return result.outcome.value
