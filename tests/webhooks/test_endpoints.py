"""The webhook endpoint over HTTP: the shared secret guards it, nothing is applied without it."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.calls.service import record_provider_call
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.models import WebhookEvent
from orchestrator.webhooks.redispatch import Coalescer
from tests.factories import RecordedTasks, dispatch_campaign, make_campaign, make_org


def _drain_follow_ups(api: TestClient) -> None:
    """Every dispatch the requests so far asked for, enqueued (or not) on the app's own loop."""
    assert api.portal is not None and isinstance(api.app, FastAPI)
    freed: Coalescer[uuid.UUID] = api.app.state.freed_capacity
    api.portal.call(freed.drain)


def _events(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)


MESSAGE = {"message": {"type": "status-update", "status": "ringing", "call": {"id": "x"}}}


def test_bad_secret_is_401_and_nothing_is_stored(api: TestClient, session: Session) -> None:
    before = _events(session)
    header = get_settings().webhook_secret_header
    response = api.post("/webhooks/vapi", json=MESSAGE, headers={header: "wrong"})
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401
    assert _events(session) == before


def test_missing_secret_is_401(api: TestClient, session: Session) -> None:
    before = _events(session)
    assert api.post("/webhooks/vapi", json=MESSAGE).status_code == 401
    assert _events(session) == before


def test_good_secret_stores_the_event(api: TestClient, session: Session) -> None:
    settings = get_settings()
    before = _events(session)
    response = api.post(
        "/webhooks/vapi",
        json=MESSAGE,
        headers={settings.webhook_secret_header: settings.webhook_secret},
    )
    assert response.status_code == 200
    assert _events(session) == before + 1


def test_malformed_json_is_400(api: TestClient) -> None:
    settings = get_settings()
    response = api.post(
        "/webhooks/vapi",
        content=b"{not json",
        headers={settings.webhook_secret_header: settings.webhook_secret},
    )
    assert response.status_code == 400
    assert response.json()["message"] == ["body must be valid JSON"]


def test_oversized_body_is_413(api: TestClient) -> None:
    settings = get_settings()
    response = api.post(
        "/webhooks/vapi",
        content=b"{" + b" " * 1_100_000 + b"}",
        headers={settings.webhook_secret_header: settings.webhook_secret},
    )
    assert response.status_code == 413


def test_only_the_message_ending_a_call_dispatches_its_org_again(
    api: TestClient, session: Session, tasks: RecordedTasks
) -> None:
    org = make_org(session)
    campaign_id = make_campaign(session, org=org, customers=1)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=5)
    provider_id = str(uuid.uuid4())
    record_provider_call(session, call_id=call_id, provider_call={"id": provider_id})
    settings = get_settings()
    headers = {settings.webhook_secret_header: settings.webhook_secret}

    def post(status: str) -> None:
        message = {"type": "status-update", "status": status, "call": {"id": provider_id}}
        if status == "ended":
            message["endedReason"] = "customer-ended-call"
        response = api.post("/webhooks/vapi", json={"message": message}, headers=headers)
        assert response.status_code == 200, response.text

    post("ringing")
    post("in-progress")
    _drain_follow_ups(api)
    assert tasks.dispatched_orgs() == []
    post("ended")
    post("ended")  # a duplicate frees nothing more
    _drain_follow_ups(api)
    assert tasks.dispatched_orgs() == [org.org_id]
