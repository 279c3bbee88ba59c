"""The intake: messages stored in group commits, inline (and applied) or on its own connection."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, select, text
from sqlalchemy.orm import Session

from orchestrator.config import get_settings
from orchestrator.flows.apply_webhooks import InlineStore
from orchestrator.models import (
    CallStatus,
    Contact,
    ContactStatus,
    WebhookEvent,
)
from orchestrator.webhooks.intake import ConnectionStore, StoredBatch, WebhookIntake
from orchestrator.webhooks.messages import new_event
from orchestrator.webhooks.repository import NewEvent
from tests.factories import (
    campaign_drift,
    placed_calls,
    status_update,
    webhook_outcomes,
    whole_call,
)

pytestmark = pytest.mark.usefixtures("no_other_webhook_events")


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
    assert webhook_outcomes(session).get(None) is None
    assert sum(webhook_outcomes(session).values()) == 32, "each message stored once"
    assert set(freed) == {calls[0].org_id}
    assert campaign_drift(session, campaign_id=campaign_id) == {}


def _delete_committed(keys: Sequence[str]) -> None:
    engine = create_engine(get_settings().database_url)
    with engine.begin() as connection:
        connection.execute(delete(WebhookEvent).where(WebhookEvent.dedupe_key.in_(keys)))
    engine.dispose()


def _counted_store() -> tuple[ConnectionStore, list[int]]:
    """The worker mode's store, and the size of each statement it runs, in order."""
    store = ConnectionStore(get_settings().database_url)
    statements: list[int] = []
    real_store = store.store

    async def counted_store(events: Sequence[NewEvent]) -> StoredBatch:
        statements.append(len(events))
        return await real_store(events)

    store.store = counted_store  # type: ignore[method-assign]
    return store, statements


def test_worker_mode_stores_on_its_own_connection_in_few_commits_then_asks_for_an_apply(
    session: Session,
) -> None:
    _, calls = placed_calls(session, customers=8)
    per_call = [
        whole_call(c, ended_reason="voicemail") + whole_call(c, ended_reason="voicemail")[3:]
        for c in calls
    ]
    keys = sorted({new_event(m).dedupe_key for messages in per_call for m in messages})
    store, statements = _counted_store()
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
