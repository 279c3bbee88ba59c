"""Thin, idempotent task shells: open a session, re-check state, call a service."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Sequence

from celery import Task
from celery.signals import worker_process_init, worker_ready

from orchestrator.calls.placing import PlaceOutcome, place_call, warm_up_provider_client
from orchestrator.calls.recovery_runner import run_recovery
from orchestrator.campaigns.reconcile import reconcile_recent_campaigns
from orchestrator.flows.apply_webhooks import applier_redis, apply_stored_webhooks_exclusively
from orchestrator.gc_tuning import tune_collector
from orchestrator.pacing.limiter import Reservation
from orchestrator.scheduling.runner import dispatch_org_now, run_tick
from workers.celery_app import celery_app

logger = logging.getLogger(__name__)


@worker_ready.connect
def _warm_up(**_: object) -> None:
    warm_up_provider_client()
    tune_collector()


@worker_process_init.connect
def _tune_forked_worker(**_: object) -> None:
    tune_collector()  # each process of a prefork pool


def enqueue_place_calls(call_ids: Sequence[uuid.UUID]) -> None:
    for call_id in call_ids:
        place_call_task.delay(str(call_id))


def enqueue_org_dispatch(org_id: uuid.UUID) -> None:
    """Dispatch the org now (capacity freed, or a call waiting): not at the next tick."""
    dispatch_org_task.delay(str(org_id))


@celery_app.task(name="scheduler.tick")
def scheduler_tick_task() -> int:
    results = run_tick(enqueue=enqueue_place_calls)
    return sum(len(r.call_ids) for r in results)


def enqueue_recovery() -> None:
    """Have the provider asked about calls in flight now, not at the next beat."""
    recover_calls_task.delay()


@celery_app.task(name="calls.recover")
def recover_calls_task() -> int:
    """Settle lost create answers and silent calls by asking the provider."""
    sweep = run_recovery(enqueue=enqueue_place_calls)
    return sum(sweep.resolved.values()) + sweep.refreshed


@celery_app.task(name="campaigns.reconcile")
def reconcile_campaigns_task() -> int:
    """Recount active and recently ended campaigns; returns how many had drifted."""
    return len(reconcile_recent_campaigns().drifted)


def enqueue_webhook_apply() -> None:
    """Have the stored webhooks applied (the API asks after storing some)."""
    apply_stored_webhooks_task.delay()


@celery_app.task(name="webhooks.apply")
def apply_stored_webhooks_task() -> int:
    """Apply the webhooks the API stored, unless another applier is at it (it will)."""
    return apply_stored_webhooks_exclusively(applier_redis(), enqueue_dispatch=enqueue_org_dispatch)


@celery_app.task(name="orgs.dispatch")
def dispatch_org_task(org_id: str) -> int:
    result = dispatch_org_now(uuid.UUID(org_id), enqueue=enqueue_place_calls)
    return len(result.call_ids)


# A call waiting for its caller number's calls-per-second slot holds a reservation for it and comes
# back exactly then, as a new message: it holds no worker while it waits, never dials early,
# and waiting calls never contend for the same slot.
@celery_app.task(name="calls.place", bind=True, max_retries=None)
def place_call_task(
    self: Task[..., str],
    call_id: str,
    slot_us: int | None = None,
    epoch: str | None = None,
    interval_us: int | None = None,
    window_calls: int = 1,
    span_us: int = 0,
) -> str:
    held = (
        Reservation(slot_us, epoch, interval_us, window_calls, span_us)
        if slot_us is not None and epoch is not None and interval_us is not None
        else None
    )
    result = place_call(uuid.UUID(call_id), reservation=held)
    if result.outcome == PlaceOutcome.WAITING:
        slot = result.reservation
        kwargs = dataclasses.asdict(slot) if slot else {}
        raise self.retry(countdown=result.retry_after_seconds, kwargs=kwargs)
    return result.outcome.value
