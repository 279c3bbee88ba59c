"""Group-committed storing, batched (folded) application, and the intake that runs both."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import counter_drift
from orchestrator.config import get_settings
from orchestrator.metrics.service import counted
from orchestrator.models import (
    Call,
    CallStatus,
    Campaign,
    CampaignStatus,
    Contact,
    ContactStatus,
    WebhookEvent,
    WebhookOutcome,
)
from orchestrator.webhooks import service, sweep
from orchestrator.webhooks.intake import ConnectionStore, InlineStore, StoredBatch, WebhookIntake
from orchestrator.webhooks.repository import NewEvent
from orchestrator.webhooks.service import apply_pending_events, new_event, store_events
from orchestrator.webhooks.sweep import (
    apply_batch_or_each,
    apply_stored_webhooks,
    apply_stored_webhooks_exclusively,
)
from tests.factories import placed_calls, report, status_update, whole_call


@pytest.fixture(autouse=True)
def _no_other_events(session: Session) -> None:
    # Events other tests' processes committed (end-to-end runs) are not these tests' to apply
    # or count; removed inside the test's transaction, which is rolled back.
    session.execute(delete(WebhookEvent))


def _outcomes(session: Session) -> dict[str | None, int]:
    rows = session.execute(select(WebhookEvent.outcome, func.count()).group_by("outcome"))
    return {row[0]: row[1] for row in rows}


def _assert_exact(session: Session, campaign_id: uuid.UUID) -> None:
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    assert campaign is not None
    assert counter_drift(session, campaign=campaign) == {}


def test_a_batch_is_stored_in_one_go_with_duplicates_stored_once(session: Session) -> None:
    _, (call,) = placed_calls(session)
    ringing = status_update(call, "ringing")
    events = [new_event(m) for m in (ringing, ringing, {"message": {"type": "transcript"}})]
    duplicates_before = counted(
        "orchestrator_webhook_events", type="status-update", outcome="duplicate"
    )

    ids = store_events(session, events)

    assert ids[0] is not None and ids[1] is None and ids[2] is not None
    assert _outcomes(session) == {None: 1, "ignored": 1}, "applied types wait to be applied"
    assert (
        counted("orchestrator_webhook_events", type="status-update", outcome="duplicate")
        == duplicates_before + 1
    )
    assert store_events(session, [new_event(ringing)]) == [None], "and in a later batch too"


def test_one_batch_applies_every_message_of_many_calls_exactly(session: Session) -> None:
    campaign_id, calls = placed_calls(session, customers=3)
    reasons = ["customer-ended-call", "customer-did-not-answer", "voicemail"]
    messages = [
        m
        for call, reason in zip(calls, reasons, strict=True)
        for m in whole_call(call, ended_reason=reason)
    ]
    store_events(session, [new_event(m) for m in reversed(messages)])

    applied = apply_pending_events(session)

    assert applied.claimed == 12
    # Newest first: each call's report ends it; its earlier messages then change nothing.
    assert list(applied.outcomes.values()).count(WebhookOutcome.APPLIED) == 3
    assert set(applied.freed_org_ids) == {calls[0].org_id}
    for call, reason in zip(calls, reasons, strict=True):
        session.refresh(call)
        assert (call.status, call.ended_reason, call.cost) == (CallStatus.ENDED, reason, 0.12)
    assert None not in _outcomes(session), "every event has its outcome"
    assert apply_pending_events(session).claimed == 0, "applied once"
    _assert_exact(session, campaign_id)
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None and campaign.status == CampaignStatus.ENDED


def test_a_parked_message_is_applied_in_the_batch_of_its_calls_next_message(
    session: Session,
) -> None:
    campaign_id, (call,) = placed_calls(session)
    provider_id = call.provider_call_id
    assert provider_id is not None
    call.provider_call_id = None
    session.flush()
    store_events(session, [new_event(status_update(call, "ringing") | {})])  # no id at all
    early = status_update(call, "ended", endedReason="customer-busy")
    early["message"]["call"]["id"] = provider_id
    store_events(session, [new_event(early)])
    assert set(apply_pending_events(session).outcomes.values()) == {"parked", "unknown-call"}

    call.provider_call_id = provider_id
    session.flush()
    store_events(session, [new_event(report(call, "customer-busy"))])
    applied = apply_pending_events(session)

    # The parked ``ended`` ends the call first; the report then adds its details.
    assert list(applied.outcomes.values()) == ["applied", "applied"]
    assert _outcomes(session) == {"applied": 2, "unknown-call": 1}
    session.refresh(call)
    assert (call.status, call.ended_reason) == (CallStatus.ENDED, "customer-busy")
    _assert_exact(session, campaign_id)


@contextmanager
def _serialised(session: Session, lock: threading.Lock, opened: list[int]) -> Iterator[Session]:
    # The intake opens its transactions from worker threads; the test's one session takes
    # them one at a time, each in a savepoint (rolled back on error).
    with lock, session.begin_nested():
        opened.append(1)
        yield session


def _inline_intake(session: Session, freed: list[uuid.UUID]) -> tuple[WebhookIntake, list[int]]:
    lock = threading.Lock()
    opened: list[int] = []
    store = InlineStore(lambda: _serialised(session, lock, opened))
    return WebhookIntake(store, on_stored=lambda: None, on_freed=freed.append), opened


def _send_concurrently(intake: WebhookIntake, per_sender: list[list[dict[str, Any]]]) -> None:
    async def sender(messages: list[dict[str, Any]]) -> None:
        for message in messages:
            await intake.submit(new_event(message))

    async def scenario() -> None:
        await asyncio.gather(*(sender(m) for m in per_sender))
        await intake.close()

    asyncio.run(scenario())


def test_inline_concurrent_submissions_are_stored_in_few_batches_and_applied(
    session: Session,
) -> None:
    campaign_id, calls = placed_calls(session, customers=8)
    freed: list[uuid.UUID] = []
    intake, opened = _inline_intake(session, freed)

    # Each call's report is delivered twice.
    per_call = [whole_call(c, ended_reason="customer-ended-call") for c in calls]
    _send_concurrently(intake, [messages + messages[3:] for messages in per_call])

    assert len(opened) < 40, "stored in group commits"
    for call in calls:
        session.refresh(call)
        assert call.status == CallStatus.ENDED
        contact = session.get(Contact, call.contact_id, populate_existing=True)
        assert contact is not None and contact.status == ContactStatus.COMPLETED
    assert _outcomes(session).get(None) is None
    assert sum(_outcomes(session).values()) == 32, "each message stored once"
    assert set(freed) == {calls[0].org_id}
    _assert_exact(session, campaign_id)


def _delete_committed(keys: Sequence[str]) -> None:
    engine = create_engine(get_settings().database_url)
    with engine.begin() as connection:
        connection.execute(delete(WebhookEvent).where(WebhookEvent.dedupe_key.in_(keys)))
    engine.dispose()


def test_worker_mode_stores_on_its_own_connection_in_few_commits_then_asks_for_an_apply(
    session: Session,
) -> None:
    _, calls = placed_calls(session, customers=8)
    per_call = [
        whole_call(c, ended_reason="voicemail") + whole_call(c, ended_reason="voicemail")[3:]
        for c in calls
    ]
    keys = sorted({new_event(m).dedupe_key for messages in per_call for m in messages})
    store = ConnectionStore(get_settings().database_url)
    statements: list[int] = []
    real_store = store.store

    async def counted_store(events: Sequence[NewEvent]) -> StoredBatch:
        statements.append(len(events))
        return await real_store(events)

    store.store = counted_store  # type: ignore[method-assign]
    asked: list[int] = []
    intake = WebhookIntake(store, on_stored=lambda: asked.append(1), on_freed=lambda _: None)
    try:
        _send_concurrently(intake, per_call)

        # Committed, so another connection (the test's session) sees them: pending, once each.
        stored = session.scalars(select(WebhookEvent).where(WebhookEvent.dedupe_key.in_(keys)))
        assert sorted(str(e.dedupe_key) for e in stored if e.outcome is None) == keys
        assert sum(statements) == 40 and len(statements) < 40, "group commits"
        assert 1 <= len(asked) <= len(statements), "an apply asked for after each commit"
    finally:
        _delete_committed(keys)


def test_worker_mode_reconnects_when_its_connection_is_lost(session: Session) -> None:
    _, (call,) = placed_calls(session)
    first, second = status_update(call, "ringing"), status_update(call, "in-progress")
    keys = [new_event(m).dedupe_key for m in (first, second)]
    store = ConnectionStore(get_settings().database_url)
    intake = WebhookIntake(store, on_stored=lambda: None, on_freed=lambda _: None)

    async def scenario() -> None:
        await intake.submit(new_event(first))
        assert store._connection is not None
        pid = store._connection.info.backend_pid
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # The batch in flight fails; tried again alone, on a new connection, it is stored.
        await intake.submit(new_event(second))
        assert store._connection is not None and store._connection.info.backend_pid != pid
        await intake.close()

    try:
        asyncio.run(scenario())
        stored = select(WebhookEvent.dedupe_key).where(WebhookEvent.dedupe_key.in_(keys))
        assert sorted(str(key) for key in session.scalars(stored)) == sorted(keys)
    finally:
        _delete_committed(keys)


def test_one_message_the_database_refuses_fails_alone(session: Session) -> None:
    _, calls = placed_calls(session, customers=2)
    freed: list[uuid.UUID] = []
    intake, _ = _inline_intake(session, freed)
    good = [new_event(status_update(call, "ringing")) for call in calls]
    bad = new_event({"message": {"type": "transcript"}}, raw="not json")

    async def scenario() -> list[BaseException | None]:
        results = await asyncio.gather(
            *(intake.submit(e) for e in [good[0], bad, good[1]]), return_exceptions=True
        )
        return list(results)

    first, refused, second = asyncio.run(scenario())

    assert first is None and second is None
    assert refused is not None
    for call in calls:
        session.refresh(call)
        assert call.status == CallStatus.RINGING


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
    client.delete(sweep.APPLIER_LOCK_KEY, sweep.APPLY_WANTED_KEY)
    yield client
    client.delete(sweep.APPLIER_LOCK_KEY, sweep.APPLY_WANTED_KEY)
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
    _assert_exact(session, campaign_id)


def test_one_applier_at_a_time_and_a_request_it_missed_is_not_lost(
    session: Session, applier_redis: redis.Redis[bytes]
) -> None:
    _, calls = placed_calls(session, customers=2)
    first, later = ([new_event(m) for m in whole_call(c, ended_reason="voicemail")] for c in calls)
    store_events(session, first)
    other = applier_redis.lock(sweep.APPLIER_LOCK_KEY, timeout=30)
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
    assert None not in _outcomes(session)
    assert applier_redis.exists(sweep.APPLIER_LOCK_KEY) == 0, "and let go of the lock"


def test_a_long_drain_dispatches_each_org_at_a_pace_and_once_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    enqueued: list[uuid.UUID] = []
    org_a, org_b = uuid.uuid4(), uuid.uuid4()
    dispatch = sweep._PacedDispatch(enqueued.append)

    def freed_at(offset: float, *org_ids: uuid.UUID) -> None:
        now[0] = 100.0 + offset
        dispatch.freed(org_ids)

    pace = sweep.REDISPATCH_SECONDS
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
    assert None not in _outcomes(session)
    _assert_exact(session, campaign_id)


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
    real_apply = service._apply_status_update

    def failing(session: Session, call: Call, message: dict[str, Any], batch: Any) -> bool:
        if call.provider_call_id == poison_id and message.get("status") == "ringing":
            raise KeyError("a fault of ours")
        return real_apply(session, call, message, batch)

    monkeypatch.setattr(service, "_apply_status_update", failing)

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    applied = apply_batch_or_each(unit_of_work)

    assert list(applied.outcomes.values()).count(WebhookOutcome.FAILED) == 1
    assert _outcomes(session).get("failed") == 1
    assert None not in _outcomes(session), "nothing left waiting behind it"
    for call in calls:
        session.refresh(call)
        assert call.status == CallStatus.ENDED, "its call's other messages still applied"
    _assert_exact(session, campaign_id)
