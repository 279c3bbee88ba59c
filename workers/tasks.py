"""Thin, idempotent task shells: open a session, re-check state, call a service."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from orchestrator.calls.placing import place_call
from orchestrator.scheduling.runner import dispatch_one, run_tick
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
    return len(dispatch_one(uuid.UUID(campaign_id), enqueue=enqueue_place_calls).call_ids)


@celery_app.task(name="calls.place")
def place_call_task(call_id: str) -> str:
    return place_call(uuid.UUID(call_id)).value
