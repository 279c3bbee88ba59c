"""The task port: tasks sent by name reach the broker as the workers' own tasks would."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import redis

from orchestrator.config import get_settings
from orchestrator.enqueue import (
    APPLY_WEBHOOKS,
    DEFAULT_QUEUE,
    DELIVER_EVENTS,
    DISPATCH_EVENTS,
    DISPATCH_ORG,
    OUTBOUND_QUEUE,
    PLACE_BATCH_SIZE,
    PLACE_CALL,
    PLACE_CALLS,
    PREDIAL_CHECK,
    RECONCILE_CAMPAIGNS,
    RECOVER_CALLS,
    SCHEDULER_TICK,
    TaskQueue,
    celery_config,
    create_celery,
)

QUEUE = "enqueue-test"


def test_every_name_the_port_sends_is_a_task_of_the_workers() -> None:
    import workers.tasks  # noqa: F401  (a worker imports it: that registers the tasks)
    from workers.celery_app import celery_app

    names = {SCHEDULER_TICK, PLACE_CALL, PLACE_CALLS, RECOVER_CALLS, RECONCILE_CAMPAIGNS}
    names.add(APPLY_WEBHOOKS)
    assert names | {DISPATCH_ORG, PREDIAL_CHECK, DISPATCH_EVENTS, DELIVER_EVENTS} <= set(
        celery_app.tasks
    )
    schedule = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert DISPATCH_EVENTS in schedule, "campaign events are handed out every second"
    for key, value in celery_config(get_settings()).items():
        assert celery_app.conf[key] == value, key


def test_tasks_are_sent_by_name_with_string_arguments() -> None:
    settings = get_settings()
    app = create_celery(settings)
    app.conf.task_default_queue = QUEUE  # a queue of its own: no worker takes these
    app.conf.task_routes = {}  # outbound tasks too
    broker: redis.Redis[bytes] = redis.Redis.from_url(settings.redis_url)
    broker.delete(QUEUE)
    call_ids = [uuid.uuid4(), uuid.uuid4()]
    batch = [uuid.uuid4() for _ in range(PLACE_BATCH_SIZE + 1)]
    org_id = uuid.uuid4()
    slot = {"slot_us": 5, "epoch": "e", "interval_us": 1000, "window_calls": 1, "span_us": 0}
    try:
        queue = TaskQueue(app)
        queue.place_calls(call_ids)
        queue.place_calls(batch)
        queue.place_call_later(call_ids[0], countdown=0.5, slot=slot)
        queue.dispatch_org(org_id)
        queue.recover_calls()
        queue.apply_webhooks()
        queue.dispatch_events()
        queue.deliver_events(call_ids)
        messages = [json.loads(m) for m in reversed(broker.lrange(QUEUE, 0, -1))]
    finally:
        broker.delete(QUEUE)
        broker.close()
    sent = [(m["headers"]["task"], _arguments(m)) for m in messages]
    later = messages[3]
    assert _keywords(later) == slot
    assert later["headers"]["eta"] is not None, "it comes back when its slot does"
    batch_ids = [str(call_id) for call_id in batch]
    assert sent == [
        (PLACE_CALLS, [[str(call_ids[0]), str(call_ids[1])]]),
        (PLACE_CALLS, [batch_ids[:PLACE_BATCH_SIZE]]),
        (PLACE_CALLS, [batch_ids[PLACE_BATCH_SIZE:]]),
        (PLACE_CALL, [str(call_ids[0])]),
        (DISPATCH_ORG, [str(org_id)]),
        (RECOVER_CALLS, []),
        (APPLY_WEBHOOKS, []),
        (DISPATCH_EVENTS, []),
        (DELIVER_EVENTS, [[str(call_ids[0]), str(call_ids[1])]]),
    ]


def test_a_predial_check_carries_its_contact_and_lease() -> None:
    settings = get_settings()
    app = create_celery(settings)
    app.conf.task_routes = {"predial.*": {"queue": QUEUE}}  # no worker takes these
    broker: redis.Redis[bytes] = redis.Redis.from_url(settings.redis_url)
    broker.delete(QUEUE)
    contact_id, lease = uuid.uuid4(), datetime(2026, 3, 2, 15, 1, 20, 5, tzinfo=UTC)
    try:
        TaskQueue(app).check_predial([(contact_id, lease)])
        (message,) = [json.loads(m) for m in broker.lrange(QUEUE, 0, -1)]
    finally:
        broker.delete(QUEUE)
        broker.close()
    assert message["headers"]["task"] == PREDIAL_CHECK
    sent_id, sent_lease = _arguments(message)
    assert (sent_id, datetime.fromisoformat(sent_lease)) == (str(contact_id), lease)


def _keywords(message: dict[str, Any]) -> dict[str, Any]:
    _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert isinstance(kwargs, dict)
    return kwargs


def _arguments(message: dict[str, Any]) -> list[Any]:
    args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert isinstance(args, list)
    return args


def test_work_waiting_on_users_servers_goes_to_the_outbound_queue() -> None:
    app = create_celery(get_settings())
    router = app.amqp.router
    for name in ("predial.check", "events.deliver"):
        assert router.route({}, name)["queue"].name == OUTBOUND_QUEUE, name
    # The events dispatcher is quick database work: it never waits on a user's server.
    for name in (PLACE_CALL, PLACE_CALLS, SCHEDULER_TICK, APPLY_WEBHOOKS, DISPATCH_EVENTS):
        assert router.route({}, name)["queue"].name == DEFAULT_QUEUE, name
