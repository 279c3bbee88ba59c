"""The Celery application: Redis broker, late acks, a beat that ticks every second."""

from __future__ import annotations

from celery import Celery

from orchestrator.config import get_settings


def create_celery() -> Celery:
    settings = get_settings()
    app = Celery("orchestrator", broker=settings.redis_url, include=["workers.tasks"])
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule={
            "scheduler-tick": {
                "task": "scheduler.tick",
                "schedule": settings.tick_interval_seconds,
                # A tick that waited longer than one interval is stale: the next one is coming.
                "options": {"expires": max(settings.tick_interval_seconds, 1.0)},
            },
            "call-recovery": {
                "task": "calls.recover",
                "schedule": settings.recovery_interval_seconds,
                "options": {"expires": settings.recovery_interval_seconds},
            },
            "webhook-sweep": {
                "task": "webhooks.apply",
                "schedule": settings.webhook_sweep_interval_seconds,
                "options": {"expires": settings.webhook_sweep_interval_seconds},
            },
            "campaign-reconcile": {
                "task": "campaigns.reconcile",
                "schedule": settings.reconcile_interval_seconds,
                # A run still queued when the next is due is redundant.
                "options": {"expires": settings.reconcile_interval_seconds},
            },
        },
    )
    return app


celery_app = create_celery()
