"""The webhook applier: one at a time, in batches or one by one, dispatching freed orgs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import pytest
import redis
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from orchestrator.calls import provider_reports
from orchestrator.calls.provider_reports import StatusReport
from orchestrator.config import get_settings
from orchestrator.flows import apply_webhooks
from orchestrator.flows.apply_webhooks import (
    apply_batch_or_each,
    apply_stored_webhooks,
    apply_stored_webhooks_exclusively,
)
from orchestrator.models import Call, CallStatus, WebhookOutcome
from orchestrator.webhooks import applying
from orchestrator.webhooks.messages import new_event
from orchestrator.webhooks.storing import store_events
from tests.factories import campaign_drift, placed_calls, webhook_outcomes, whole_call

pytestmark = pytest.mark.usefixtures("no_other_webhook_events")


@contextmanager
def _raising_once(session: Session, attempts: list[int]) -> Iterator[Session]:
    attempts.append(1)
    if len(attempts) == 1:
        raise OperationalError("SELECT 1", None, ConnectionError("database went away"))
    with session.begin_nested():
        yield session


@pytest.fixture
def applier_redis() -> Iterator[redis.Redis[bytes]]:
    client: redis.Redis[bytes] = redis.Redis.from_url(get_settings().redis_url)
    client.delete(apply_webhooks.APPLIER_LOCK_KEY, apply_webhooks.APPLY_WANTED_KEY)
    yield client
    client.delete(apply_webhooks.APPLIER_LOCK_KEY, apply_webhooks.APPLY_WANTED_KEY)
    client.close()


def test_an_apply_the_database_refused_leaves_the_messages_for_the_next(
    session: Session, applier_redis: redis.Redis[bytes]
) -> None:
    campaign_id, (call,) = placed_calls(session)
    store_events(session, [new_event(m) for m in whole_call(call, ended_reason="voicemail")])
    attempts: list[int] = []

    def apply() -> int:
        return apply_stored_webhooks_exclusively(
            applier_redis,
            enqueue_dispatch=lambda _: None,
            unit_of_work=lambda: _raising_once(session, attempts),
        )

    with pytest.raises(OperationalError):
        apply()
    assert apply() == 4, "the lock was let go, and the messages waited"
    session.refresh(call)
    assert (call.status, call.ended_reason) == (CallStatus.ENDED, "voicemail")
    assert campaign_drift(session, campaign_id=campaign_id) == {}


def test_one_applier_at_a_time_and_a_request_it_missed_is_not_lost(
    session: Session, applier_redis: redis.Redis[bytes]
) -> None:
    _, calls = placed_calls(session, customers=2)
    first, later = ([new_event(m) for m in whole_call(c, ended_reason="voicemail")] for c in calls)
    store_events(session, first)
    other = applier_redis.lock(apply_webhooks.APPLIER_LOCK_KEY, timeout=30)
    batches: list[int] = []

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        with session.begin_nested():
            yield session
        batches.append(1)
        if len(batches) == 1:
            # While this applier works, more is stored and its apply task finds the lock taken.
            store_events(session, later)
            assert other.acquire(blocking=False) is False
            assert apply(lambda: nullcontext(session)) == 0, "left to the applier at work"

    def apply(unit_of_work: Any) -> int:
        return apply_stored_webhooks_exclusively(
            applier_redis, enqueue_dispatch=lambda _: None, unit_of_work=unit_of_work
        )

    assert apply(unit_of_work) == 8, "it saw the note and applied again"
    assert None not in webhook_outcomes(session)
    assert applier_redis.exists(apply_webhooks.APPLIER_LOCK_KEY) == 0, "and let go of the lock"


def test_a_long_drain_dispatches_each_org_at_a_pace_and_once_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    enqueued: list[uuid.UUID] = []
    org_a, org_b = uuid.uuid4(), uuid.uuid4()
    dispatch = apply_webhooks._PacedDispatch(enqueued.append)

    def freed_at(offset: float, *org_ids: uuid.UUID) -> None:
        now[0] = 100.0 + offset
        dispatch.freed(org_ids)

    pace = apply_webhooks.REDISPATCH_SECONDS
    freed_at(0, org_a)
    freed_at(0, org_a, org_b)
    assert enqueued == [org_a, org_b], "each org at once the first time"
    freed_at(pace / 2, org_a)
    assert enqueued == [org_a, org_b], "not again so soon"
    freed_at(pace, org_a)
    freed_at(pace * 1.2, org_b)
    assert enqueued == [org_a, org_b, org_a, org_b], "again once its pace allows"
    freed_at(pace * 1.5, org_b)
    dispatch.finish()
    assert enqueued == [org_a, org_b, org_a, org_b, org_b], "what was freed since, at the end"


def test_the_sweep_applies_what_a_stopped_api_left_stored(session: Session) -> None:
    campaign_id, calls = placed_calls(session, customers=3)
    store_events(
        session, [new_event(m) for c in calls for m in whole_call(c, ended_reason="voicemail")]
    )
    dispatched: list[uuid.UUID] = []

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    claimed = apply_stored_webhooks(
        enqueue_dispatch=dispatched.append, unit_of_work=unit_of_work, batch_size=5
    )

    assert claimed == 12, "in batches of 5, until none is left"
    assert set(dispatched) == {calls[0].org_id}, "after each batch that freed capacity"
    assert None not in webhook_outcomes(session)
    assert campaign_drift(session, campaign_id=campaign_id) == {}


def test_the_sweep_runs_on_the_beat() -> None:
    import workers.tasks  # noqa: F401  (a worker imports it: that registers the tasks)
    from workers.celery_app import celery_app

    entry = celery_app.conf.beat_schedule["webhook-sweep"]
    assert entry["task"] == "webhooks.apply"
    assert entry["schedule"] == get_settings().webhook_sweep_interval_seconds
    assert "webhooks.apply" in celery_app.tasks


def test_a_message_that_cannot_be_applied_is_marked_failed_and_holds_back_nothing(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id, calls = placed_calls(session, customers=2)
    poison_id = calls[0].provider_call_id
    store_events(
        session, [new_event(m) for c in calls for m in whole_call(c, ended_reason="voicemail")]
    )
    real_apply = provider_reports.apply_status_report

    def failing(session: Session, *, call: Call, report: StatusReport, batch: Any) -> bool:
        if call.provider_call_id == poison_id and report.status == CallStatus.RINGING:
            raise KeyError("a fault of ours")
        return real_apply(session, call=call, report=report, batch=batch)

    monkeypatch.setattr(applying, "apply_status_report", failing)

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    applied = apply_batch_or_each(unit_of_work)

    assert list(applied.outcomes.values()).count(WebhookOutcome.FAILED) == 1
    assert webhook_outcomes(session).get("failed") == 1
    assert None not in webhook_outcomes(session), "nothing left waiting behind it"
    for call in calls:
        session.refresh(call)
        assert call.status == CallStatus.ENDED, "its call's other messages still applied"
    assert campaign_drift(session, campaign_id=campaign_id) == {}


def test_the_api_asks_for_an_applier_once_until_one_has_taken_the_request(
    session: Session, applier_redis: redis.Redis[bytes]
) -> None:
    applier_redis.delete(apply_webhooks.APPLY_QUEUED_KEY)
    sent: list[int] = []
    try:
        assert apply_webhooks.request_applier(applier_redis, lambda: sent.append(1)) is True
        for _ in range(5):  # a stream of webhooks while the task waits in the queue
            assert apply_webhooks.request_applier(applier_redis, lambda: sent.append(1)) is False
        assert sent == [1]
        ttl = applier_redis.ttl(apply_webhooks.APPLY_QUEUED_KEY)
        assert 0 < ttl <= apply_webhooks.APPLY_QUEUED_SECONDS, "a lost task holds it briefly"
        apply_stored_webhooks_exclusively(
            applier_redis,
            enqueue_dispatch=lambda _: None,
            unit_of_work=lambda: nullcontext(session),
        )
        assert apply_webhooks.request_applier(applier_redis, lambda: sent.append(1)) is True
        assert sent == [1, 1], "taken: the next webhook asks again"
    finally:
        applier_redis.delete(apply_webhooks.APPLY_QUEUED_KEY)
