"""Sending work to the workers: Celery tasks sent by name, so nothing here imports them.

Work is sent only after the transaction that made it commits; a task opens its own session
and re-checks what it finds, so a task sent twice does its work once. The API sends through
``TaskQueueDep`` (tests put a recorder in its place with ``app.dependency_overrides``); the
workers send through a ``TaskQueue`` on their own Celery app.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any

from celery import Celery
from fastapi import Depends

from orchestrator.config import Settings, get_settings

SCHEDULER_TICK = "scheduler.tick"
PLACE_CALL = "calls.place"
# Calls placed together: one task reads, claims and checks them in one transaction each, and
# sends each at its own slot (``flows.place_calls``); a call not due within the batch is
# handed back to ``calls.place`` with its slot.
PLACE_CALLS = "calls.place_batch"
PLACE_BATCH_SIZE = 20
RECOVER_CALLS = "calls.recover"
RECONCILE_CAMPAIGNS = "campaigns.reconcile"
APPLY_WEBHOOKS = "webhooks.apply"
DISPATCH_ORG = "orgs.dispatch"
PREDIAL_CHECK = "predial.check"
# Campaign events out: the dispatcher numbers and hands out due events (quick database work,
# on the default queue); each delivery waits on a user's server (the outbound queue).
DISPATCH_EVENTS = "events.dispatch"
DELIVER_EVENTS = "events.deliver"
# Outbound texts: each sent by a ``texts.send`` task (a rate slot, the gate, ``POST /chat``).
SEND_TEXT = "texts.send"
# Every beat: queued texts whose time has come are leased and handed to ``texts.send``.
DISPATCH_TEXTS = "texts.dispatch"
# Every recovery beat: texts whose create answer was lost are looked up, silent sessions
# polled, and sessions past their expiration completed.
RECOVER_TEXTS = "texts.recover"

# Work that waits on the user's servers (pre-dial checks, campaign events out) has a queue
# and workers of its own: a slow or dead receiver then holds none of the threads that dial,
# tick or apply webhooks. Tasks named ``predial.*`` and ``events.*`` go there.
DEFAULT_QUEUE = "celery"
OUTBOUND_QUEUE = "outbound"
OUTBOUND_TASK_PATTERNS = ("predial.*", "events.*")


def celery_config(settings: Settings) -> dict[str, Any]:
    """What the workers' app and the API's client share, so their messages never differ."""
    return {
        "broker_url": settings.redis_url,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        # Task events, for Flower: every task sent (by the API or a worker), received,
        # started and finished, with its state. Published to Redis; kept only while someone
        # listens.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "task_default_queue": DEFAULT_QUEUE,
        # Names first, then patterns: the events dispatcher never waits on a user's server.
        "task_routes": {
            DISPATCH_EVENTS: {"queue": DEFAULT_QUEUE},
            **{pattern: {"queue": OUTBOUND_QUEUE} for pattern in OUTBOUND_TASK_PATTERNS},
        },
    }


def create_celery(settings: Settings, *, include: Sequence[str] = ()) -> Celery:
    app = Celery("orchestrator", include=list(include))
    app.conf.update(celery_config(settings))
    return app


class TaskQueue:
    """The workers' tasks, by name: the one way the API and the flows hand work over."""

    def __init__(self, app: Celery) -> None:
        self._app = app

    def send(self, name: str, *args: str) -> None:
        self._app.send_task(name, args=list(args))

    def place_calls(self, call_ids: Sequence[uuid.UUID]) -> None:
        """In batches of ``PLACE_BATCH_SIZE``, in the order given (the dispatcher's)."""
        ids = [str(call_id) for call_id in call_ids]
        for start in range(0, len(ids), PLACE_BATCH_SIZE):
            self._app.send_task(PLACE_CALLS, args=[ids[start : start + PLACE_BATCH_SIZE]])

    def place_call_later(
        self, call_id: uuid.UUID, *, countdown: float, slot: Mapping[str, Any]
    ) -> None:
        """One call on its own, when its slot comes, holding it (``slot``: the reservation)."""
        self._app.send_task(
            PLACE_CALL, args=[str(call_id)], kwargs=dict(slot), countdown=max(countdown, 0.0)
        )

    def send_texts(self, chat_ids: Sequence[uuid.UUID]) -> None:
        """Have each queued text sent (it waits there for its slot and the gate)."""
        for chat_id in chat_ids:
            self.send(SEND_TEXT, str(chat_id))

    def send_leased_texts(self, leases: Sequence[tuple[uuid.UUID, datetime]]) -> None:
        """Have each text the dispatcher leased sent by the task carrying its lease."""
        for chat_id, lease_until in leases:
            self.send(SEND_TEXT, str(chat_id), lease_until.isoformat())

    def dispatch_org(self, org_id: uuid.UUID) -> None:
        """Dispatch the org now (capacity freed, or a call waiting): not at the next tick."""
        self.send(DISPATCH_ORG, str(org_id))

    def check_predial(self, checks: Iterable[tuple[uuid.UUID, datetime]]) -> None:
        """Send each pre-dial check (a contact and its lease) to the outbound workers."""
        for contact_id, lease_until in checks:
            self.send(PREDIAL_CHECK, str(contact_id), lease_until.isoformat())

    def recover_calls(self) -> None:
        """Have the provider asked about calls in flight now, not at the next beat."""
        self.send(RECOVER_CALLS)

    def deliver_events(self, event_ids: Sequence[uuid.UUID]) -> None:
        """Have a batch of leased campaign events sent to their receiver, in order."""
        self._app.send_task(DELIVER_EVENTS, args=[[str(event_id) for event_id in event_ids]])

    def dispatch_events(self) -> None:
        """Have campaign events numbered and handed out now, not at the next beat."""
        self.send(DISPATCH_EVENTS)

    def apply_webhooks(self) -> None:
        """Have the stored webhooks applied (the API asks after storing some)."""
        self.send(APPLY_WEBHOOKS)


@lru_cache(maxsize=1)
def task_queue() -> TaskQueue:
    """The API process's sender: one Celery client and broker pool, made on first use."""
    return TaskQueue(create_celery(get_settings()))


def get_task_queue() -> TaskQueue:
    return task_queue()


TaskQueueDep = Annotated[TaskQueue, Depends(get_task_queue)]
