"""The Celery application: Redis broker, late acks, a beat that ticks every second."""

from __future__ import annotations

from typing import Any

from celery import Celery, signals

from orchestrator.config import get_settings
from orchestrator.enqueue import (
    APPLY_WEBHOOKS,
    DISPATCH_EVENTS,
    DISPATCH_TEXTS,
    RECONCILE_CAMPAIGNS,
    RECOVER_CALLS,
    RECOVER_TEXTS,
    SCHEDULER_TICK,
    create_celery,
)
from orchestrator.safety import UnsafeSettings, unsafe_settings


def create_worker_celery() -> Celery:
    settings = get_settings()
    app = create_celery(settings, include=["workers.tasks"])
    app.conf.update(
        beat_schedule={
            "scheduler-tick": {
                "task": SCHEDULER_TICK,
                "schedule": settings.tick_interval_seconds,
                # A tick that waited longer than one interval is stale: the next one is coming.
                "options": {"expires": max(settings.tick_interval_seconds, 1.0)},
            },
            "call-recovery": {
                "task": RECOVER_CALLS,
                "schedule": settings.recovery_interval_seconds,
                "options": {"expires": settings.recovery_interval_seconds},
            },
            "text-dispatch": {
                "task": DISPATCH_TEXTS,
                "schedule": settings.tick_interval_seconds,
                "options": {"expires": max(settings.tick_interval_seconds, 1.0)},
            },
            "text-recovery": {
                "task": RECOVER_TEXTS,
                "schedule": settings.recovery_interval_seconds,
                "options": {"expires": settings.recovery_interval_seconds},
            },
            "webhook-sweep": {
                "task": APPLY_WEBHOOKS,
                "schedule": settings.webhook_sweep_interval_seconds,
                "options": {"expires": settings.webhook_sweep_interval_seconds},
            },
            "campaign-events": {
                "task": DISPATCH_EVENTS,
                "schedule": settings.events_dispatch_interval_seconds,
                "options": {"expires": max(settings.events_dispatch_interval_seconds, 1.0)},
            },
            "campaign-reconcile": {
                "task": RECONCILE_CAMPAIGNS,
                "schedule": settings.reconcile_interval_seconds,
                # A run still queued when the next is due is redundant.
                "options": {"expires": settings.reconcile_interval_seconds},
            },
        },
    )
    return app


@signals.worker_init.connect
@signals.beat_init.connect
def refuse_unsafe_settings(**_: Any) -> None:
    """A worker or beat started with ``celery`` directly checks what ``orchestrator worker``
    checks. SystemExit, because Celery logs and ignores a handler's ordinary exceptions."""
    problems = unsafe_settings(get_settings())
    if problems:
        raise SystemExit(str(UnsafeSettings(problems)))


celery_app = create_worker_celery()
