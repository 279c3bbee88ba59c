"""Webhook intake and apply lag: a message stored and not applied is in the backlog, with the
age of the oldest; applied, it leaves the backlog and its wait is observed."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from orchestrator.config import get_settings
from orchestrator.webhooks.applying import apply_pending_events
from orchestrator.webhooks.messages import new_event
from orchestrator.webhooks.storing import store_events
from tests.factories import placed_call
from tests.factories.provider_messages import status_update
from tests.support.metrics import Scrape, scrape

LAG = "orchestrator_webhook_apply_lag_seconds"
PENDING = "orchestrator_webhooks_pending"
EVENTS = "orchestrator_webhook_events_total"


def _bucket(page: Scrape, bound: str) -> float:
    return page.value(f"{LAG}_bucket", le=bound) or 0.0


def test_a_stored_message_waits_in_the_backlog_and_its_wait_is_observed_when_applied(
    api: TestClient, session: Session
) -> None:
    call = placed_call(session)
    before = scrape(api)
    (event_id,) = store_events(session, [new_event(status_update(call, "ringing"))])
    assert event_id is not None
    # Stored 42 seconds ago, as a backlog would have kept it.
    session.execute(
        text(
            "UPDATE webhook_events SET received_at = now() - interval '42 seconds' WHERE id = :id"
        ),
        {"id": event_id},
    )
    waiting = scrape(api)
    assert waiting.value(PENDING) == (before.value(PENDING) or 0) + 1
    oldest = waiting.value(f"{PENDING}_oldest_seconds")
    assert oldest is not None and oldest >= 42
    intake = waiting.value(EVENTS, type="status-update", outcome="applied")
    assert apply_pending_events(session, event_ids=[event_id]).claimed == 1
    after = scrape(api)
    assert after.value(PENDING) == before.value(PENDING)
    assert after.value(f"{LAG}_count") == (waiting.value(f"{LAG}_count") or 0) + 1
    assert _bucket(after, "30.0") == _bucket(waiting, "30.0"), "it waited over 30 s"
    assert _bucket(after, "60.0") == _bucket(waiting, "60.0") + 1
    assert after.value(EVENTS, type="status-update", outcome="applied") == (intake or 0) + 1


def test_a_message_posted_to_the_webhook_is_counted_and_its_lag_observed(
    api: TestClient, session: Session
) -> None:
    call = placed_call(session)
    session.commit()
    before = scrape(api)
    settings = get_settings()
    headers = {settings.webhook_secret_header: settings.webhook_secret}
    response = api.post("/webhooks/vapi", json=status_update(call, "ringing"), headers=headers)
    assert response.status_code in (200, 201, 202, 204), response.text
    after = scrape(api)
    assert after.value(f"{LAG}_count") == (before.value(f"{LAG}_count") or 0) + 1
    assert after.value(PENDING) == before.value(PENDING), "applied as it was stored"
