"""The Celery application: Redis broker, late acks, a beat that ticks every second."""

from __future__ import annotations

from celery import Celery

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


celery_app = create_worker_celery()
