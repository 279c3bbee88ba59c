"""Thin task shells: each calls a flow, which opens its own transactions and re-checks state."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections import Counter
from datetime import datetime

from celery import Task
from celery.signals import worker_process_init, worker_ready

from orchestrator.calls.placing import PlaceOutcome, PlaceResult
from orchestrator.enqueue import (
    APPLY_WEBHOOKS,
    DELIVER_EVENTS,
    DISPATCH_EVENTS,
    DISPATCH_ORG,
    DISPATCH_TEXTS,
    PLACE_CALL,
    PLACE_CALLS,
    PREDIAL_CHECK,
    RECONCILE_CAMPAIGNS,
    RECOVER_CALLS,
    RECOVER_TEXTS,
    SCHEDULER_TICK,
    SEND_TEXT,
    TaskQueue,
)
from orchestrator.flows.apply_webhooks import applier_redis, apply_stored_webhooks_exclusively
from orchestrator.flows.deliver_events import (
    deliver_events,
    dispatch_events,
    prune_delivered_events,
)
from orchestrator.flows.dispatch_texts import dispatch_texts
from orchestrator.flows.place_call import place_call
from orchestrator.flows.place_calls import place_calls
from orchestrator.flows.predial import check_contact
from orchestrator.flows.prune_attempts import prune_old_attempts
from orchestrator.flows.reconcile_counters import reconcile_recent_campaigns
from orchestrator.flows.recover_calls import run_recovery
from orchestrator.flows.recover_texts import run_text_recovery
from orchestrator.flows.send_text import send_text
from orchestrator.flows.tick import dispatch_org_now, run_tick
from orchestrator.gc_tuning import tune_collector
from orchestrator.log_volume import quiet_http_client_lines, quiet_task_lines
from orchestrator.pacing.limiter import Reservation
from orchestrator.providers.client import warm_up_provider_client
from workers.celery_app import celery_app

logger = logging.getLogger(__name__)

# A delivery that finds more due events to its receiver sends them too, for up to this long.
DELIVERY_KEEPS_GOING_SECONDS = 10.0

# What the tasks send on, on the workers' own app and broker connections.
queue = TaskQueue(celery_app)


@worker_ready.connect
def _warm_up(**_: object) -> None:
    warm_up_provider_client()
    tune_collector()
    quiet_task_lines()
    quiet_http_client_lines()


@worker_process_init.connect
def _tune_forked_worker(**_: object) -> None:
    tune_collector()  # each process of a prefork pool


@celery_app.task(name=SCHEDULER_TICK)
def scheduler_tick_task() -> int:
    results = run_tick(
        enqueue=queue.place_calls,
        enqueue_checks=queue.check_predial,
        enqueue_texts=queue.send_texts,
    )
    return sum(len(r.call_ids) for r in results)


@celery_app.task(name=RECOVER_CALLS)
def recover_calls_task() -> int:
    """Settle lost create answers and silent calls by asking the provider."""
    sweep = run_recovery(enqueue=queue.place_calls)
    return sum(sweep.resolved.values()) + sweep.refreshed


@celery_app.task(name=RECONCILE_CAMPAIGNS)
def reconcile_campaigns_task() -> int:
    """Recount active and recently ended campaigns; returns how many had drifted. Attempts
    older than any frequency cap looks back on are cleared out on the way."""
    drifted = len(reconcile_recent_campaigns().drifted)
    prune_old_attempts()
    return drifted


@celery_app.task(name=APPLY_WEBHOOKS)
def apply_stored_webhooks_task() -> int:
    """Apply the webhooks the API stored, unless another applier is at it (it will)."""
    return apply_stored_webhooks_exclusively(applier_redis(), enqueue_dispatch=queue.dispatch_org)


@celery_app.task(name=DISPATCH_ORG)
def dispatch_org_task(org_id: str) -> int:
    result = dispatch_org_now(
        uuid.UUID(org_id),
        enqueue=queue.place_calls,
        enqueue_checks=queue.check_predial,
        enqueue_texts=queue.send_texts,
    )
    return len(result.call_ids)


# On the outbound queue: it waits on the user's server, never on a dialing worker.
@celery_app.task(name=PREDIAL_CHECK)
def predial_check_task(contact_id: str, lease_until: str) -> str:
    outcome = check_contact(
        uuid.UUID(contact_id),
        datetime.fromisoformat(lease_until),
        enqueue_dispatch=queue.dispatch_org,
    )
    return outcome.value


@celery_app.task(name=DISPATCH_EVENTS)
def dispatch_events_task() -> int:
    """Number new campaign events and hand the due ones out for delivery; clear out old ones."""
    claimed = dispatch_events(enqueue=queue.deliver_events).claimed
    prune_delivered_events()
    return claimed


@celery_app.task(name=DELIVER_EVENTS)
def deliver_events_task(event_ids: list[str]) -> int:
    """Send a batch of campaign events to their receiver; how many were delivered."""
    event_uuids = [uuid.UUID(event_id) for event_id in event_ids]
    return deliver_events(event_uuids, keep_going_seconds=DELIVERY_KEEPS_GOING_SECONDS).delivered


@celery_app.task(name=PLACE_CALLS)
def place_calls_task(call_ids: list[str]) -> dict[str, int]:
    """A batch of claimed calls; how many ended up each way."""
    ids = [uuid.UUID(call_id) for call_id in call_ids]
    try:
        outcomes = place_calls(ids, hand_back=_hand_back)
    except Exception:
        # One call's trouble must not hold its neighbours: each is placed on its own (a call
        # already dialing is left alone there), and this batch fails visibly.
        for call_id in ids:
            queue.place_call_later(call_id, countdown=0.0, slot={})
        raise
    return dict(Counter(outcome.value for outcome in outcomes.values()))


def _hand_back(call_id: uuid.UUID, result: PlaceResult) -> None:
    slot = dataclasses.asdict(result.reservation) if result.reservation else {}
    queue.place_call_later(call_id, countdown=result.retry_after_seconds, slot=slot)


# A call waiting for its caller number's calls-per-second slot holds a reservation for it and comes
# back exactly then, as a new message: it holds no worker while it waits, never dials early,
# and waiting calls never contend for the same slot.
@celery_app.task(name=PLACE_CALL, bind=True, max_retries=None)
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


@celery_app.task(name=DISPATCH_TEXTS)
def dispatch_texts_task() -> int:
    """Lease the queued texts whose time has come and have each sent."""
    return len(dispatch_texts(enqueue=queue.send_leased_texts))


@celery_app.task(name=RECOVER_TEXTS)
def recover_texts_task() -> int:
    """Settle texts whose create answer was lost, poll silent sessions, expire idle ones."""
    sweep = run_text_recovery()
    return sweep.found + sweep.requeued + sweep.polled + sweep.expired


# As a call: a text waiting for its slot holds its reservation (and its lease) and comes back
# exactly then; one whose slot is further off is due again later, for the dispatcher.
@celery_app.task(name=SEND_TEXT, bind=True, max_retries=None)
def send_text_task(
    self: Task[..., str],
    chat_id: str,
    lease_until: str | None = None,
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
    lease = datetime.fromisoformat(lease_until) if lease_until else None
    result = send_text(uuid.UUID(chat_id), lease_until=lease, reservation=held)
    if result.outcome == PlaceOutcome.WAITING and result.lease_until is not None:
        slot = result.reservation
        kwargs: dict[str, object] = dataclasses.asdict(slot) if slot else {}
        kwargs["lease_until"] = result.lease_until.isoformat()
        # The lease goes by keyword from now on: the dispatcher sent it by position.
        raise self.retry(countdown=result.retry_after_seconds, args=(chat_id,), kwargs=kwargs)
    return result.outcome.value
