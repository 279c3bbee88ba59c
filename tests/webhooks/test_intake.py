"""Group-committed storing, batched (folded) application, and the intake that runs both."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import delete, func, select
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
)
from orchestrator.webhooks import service
from orchestrator.webhooks.intake import WebhookIntake
from orchestrator.webhooks.service import apply_pending_events, new_event, store_events
from orchestrator.webhooks.sweep import apply_batch_or_each, apply_stored_webhooks
from tests.webhooks.test_ingest import _placed_calls, report, status_update


@pytest.fixture(autouse=True)
def _no_other_events(session: Session) -> None:
    # Events other tests' processes committed (end-to-end runs) are not these tests' to apply
    # or count; removed inside the test's transaction, which is rolled back.
    session.execute(delete(WebhookEvent))


def _messages(call: Call, reason: str) -> list[dict[str, Any]]:
    ended = status_update(call, "ended", endedReason=reason)
    return [status_update(call, "ringing"), status_update(call, "in-progress"), ended,
            report(call, reason)]  # fmt: skip


def _outcomes(session: Session) -> dict[str | None, int]:
    rows = session.execute(select(WebhookEvent.outcome, func.count()).group_by("outcome"))
    return {row[0]: row[1] for row in rows}


def _assert_exact(session: Session, campaign_id: uuid.UUID) -> None:
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    assert campaign is not None
    assert counter_drift(session, campaign=campaign) == {}


def test_a_batch_is_stored_in_one_go_with_duplicates_stored_once(session: Session) -> None:
    _, (call,) = _placed_calls(session)
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
    campaign_id, calls = _placed_calls(session, customers=3)
    reasons = ["customer-ended-call", "customer-did-not-answer", "voicemail"]
    messages = [
        m for call, reason in zip(calls, reasons, strict=True) for m in _messages(call, reason)
    ]
    store_events(session, [new_event(m) for m in reversed(messages)])

    applied = apply_pending_events(session)

    assert applied.claimed == 12
    # Newest first: each call's report ends it; its earlier messages then change nothing.
    assert list(applied.outcomes.values()).count("applied") == 3
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
    campaign_id, (call,) = _placed_calls(session)
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
    # The intake's writer and applier each open transactions from their own threads; the
    # test's one session takes them one at a time, each in a savepoint (rolled back on error).
    with lock, session.begin_nested():
        opened.append(1)
        yield session


def _intake(session: Session, mode: str, freed: list[uuid.UUID]) -> tuple[WebhookIntake, list[int]]:
    lock = threading.Lock()
    opened: list[int] = []
    intake = WebhookIntake(
        lambda: _serialised(session, lock, opened),
        mode=mode,  # type: ignore[arg-type]
        on_freed=freed.append,
    )
    return intake, opened


@pytest.mark.parametrize("mode", ["background", "inline"])
def test_concurrent_submissions_are_stored_in_few_batches_and_all_applied(
    session: Session, mode: str
) -> None:
    campaign_id, calls = _placed_calls(session, customers=8)
    per_call = [_messages(call, "customer-ended-call") for call in calls]
    freed: list[uuid.UUID] = []
    intake, opened = _intake(session, mode, freed)

    async def sender(messages: list[dict[str, Any]]) -> None:
        for message in messages + messages[-1:]:  # the report delivered twice
            await intake.submit(new_event(message))

    async def scenario() -> None:
        await asyncio.gather(*(sender(m) for m in per_call))
        await intake.drain()

    asyncio.run(scenario())

    assert len(opened) < 40 * (2 if mode == "background" else 1), "stored in group commits"
    for call in calls:
        session.refresh(call)
        assert call.status == CallStatus.ENDED
        contact = session.get(Contact, call.contact_id, populate_existing=True)
        assert contact is not None and contact.status == ContactStatus.COMPLETED
    assert _outcomes(session).get(None) is None
    assert sum(_outcomes(session).values()) == 32, "each message stored once"
    assert set(freed) == {calls[0].org_id}
    _assert_exact(session, campaign_id)


def test_one_message_the_database_refuses_fails_alone(session: Session) -> None:
    _, calls = _placed_calls(session, customers=2)
    freed: list[uuid.UUID] = []
    intake, _ = _intake(session, "inline", freed)
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


def test_a_failed_apply_is_retried_and_nothing_is_lost(session: Session) -> None:
    campaign_id, (call,) = _placed_calls(session)
    store_events(session, [new_event(m) for m in _messages(call, "voicemail")])
    attempts: list[int] = []

    @contextmanager
    def flaky() -> Iterator[Session]:
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("SELECT 1", None, ConnectionError("database went away"))
        yield session

    intake = WebhookIntake(flaky, mode="background", on_freed=lambda _: None)

    async def scenario() -> None:
        intake.request_apply()
        await intake.drain()

    asyncio.run(scenario())

    assert len(attempts) == 2
    session.refresh(call)
    assert (call.status, call.ended_reason) == (CallStatus.ENDED, "voicemail")
    _assert_exact(session, campaign_id)


def test_the_sweep_applies_what_a_stopped_api_left_stored(session: Session) -> None:
    campaign_id, calls = _placed_calls(session, customers=3)
    store_events(session, [new_event(m) for c in calls for m in _messages(c, "voicemail")])
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
    campaign_id, calls = _placed_calls(session, customers=2)
    poison_id = calls[0].provider_call_id
    store_events(session, [new_event(m) for c in calls for m in _messages(c, "voicemail")])
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

    assert list(applied.outcomes.values()).count("failed") == 1
    assert _outcomes(session).get("failed") == 1
    assert None not in _outcomes(session), "nothing left waiting behind it"
    for call in calls:
        session.refresh(call)
        assert call.status == CallStatus.ENDED, "its call's other messages still applied"
    _assert_exact(session, campaign_id)
