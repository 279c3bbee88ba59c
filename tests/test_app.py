"""The app: provider webhooks served ahead of the middleware, the intake chosen by apply mode
and closed when the app stops."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

import redis
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from orchestrator.app import create_app, webhook_intake
from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.service import record_provider_call
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.flows.apply_webhooks import InlineStore
from orchestrator.models import CallLookup, Org
from orchestrator.webhooks.intake import ConnectionStore, StoredBatch, WebhookIntake
from orchestrator.webhooks.repository import NewEvent
from tests.factories import dispatch_campaign, make_campaign, make_org

MESSAGE = {"message": {"type": "status-update", "status": "ringing", "call": {"id": "x"}}}


class _RecordingStore:
    def __init__(self) -> None:
        self.stored: list[NewEvent] = []
        self.closed = False

    async def store(self, events: Sequence[NewEvent]) -> StoredBatch:
        self.stored.extend(events)
        return StoredBatch(waiting=True)

    async def close(self) -> None:
        self.closed = True


def test_webhooks_skip_the_middleware_and_the_intake_closes_with_the_app() -> None:
    seen: list[str] = []

    class Recording:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                seen.append(scope["path"])
            await self.app(scope, receive, send)

    app = create_app()
    app.add_middleware(Recording)
    store, asked = _RecordingStore(), []
    app.state.webhook_intake = WebhookIntake(
        store, on_stored=lambda: asked.append(1), on_freed=lambda _: None
    )
    settings = get_settings()
    with TestClient(app) as client:
        headers = {settings.webhook_secret_header: settings.webhook_secret}
        assert client.post("/webhooks/vapi", json=MESSAGE, headers=headers).status_code == 200
        assert client.get("/webhooks/vapi").status_code == 405
        assert client.get("/healthz").status_code == 200
        assert not store.closed

    assert seen == ["/healthz"]
    assert [e.provider_call_id for e in store.stored] == ["x"] and asked == [1]
    assert store.closed, "stopping the app closed its intake"


def test_the_apply_mode_picks_where_batches_are_stored() -> None:
    settings = get_settings()
    worker = webhook_intake(settings.model_copy(update={"webhook_apply_mode": "worker"}))
    inline = webhook_intake(settings.model_copy(update={"webhook_apply_mode": "inline"}))

    assert isinstance(worker._store, ConnectionStore)
    assert isinstance(inline._store, InlineStore)


def test_the_openapi_document_describes_the_webhook_endpoint() -> None:
    with TestClient(create_app()) as client:
        document = client.get("/openapi.json").json()
    operation = document["paths"]["/webhooks/vapi"]["post"]
    assert set(operation["responses"]) == {"200", "400", "401", "413", "500"}
    reference = operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"]
    name = reference.rsplit("/", 1)[1]
    assert document["components"]["schemas"][name]["required"] == ["statusCode", "error", "message"]
    # The routed API is still there beside it.
    assert "/campaign" in document["paths"]


def _recover_requests(broker: redis.Redis[bytes]) -> int:
    """``calls.recover`` tasks waiting in the broker's default queue."""
    messages = broker.lrange("celery", 0, -1)
    return sum(json.loads(m)["headers"]["task"] == "calls.recover" for m in messages)


def test_the_served_api_has_every_call_in_flight_looked_up_when_it_starts(engine: Engine) -> None:
    with Session(engine) as session:
        org = make_org(session, name=f"restart-{uuid.uuid4()}")
        campaign_id = make_campaign(session, org=org, customers=2)
        held, dialing = dispatch_campaign(
            session, campaign_id=campaign_id, now=utcnow(), batch_limit=2
        )
        for call_id in (held, dialing):
            assert begin_dial(session, call_id=call_id, settings=get_settings()) is not None
        record_provider_call(session, call_id=held, provider_call={"id": f"p-{held}"})
        session.commit()
    broker: redis.Redis[bytes] = redis.Redis.from_url(get_settings().redis_url)
    before = _recover_requests(broker)
    try:
        app = create_app()
        app.state.recover_on_start = True
        with TestClient(app):
            pass
        with Session(engine) as session:
            due = session.get(CallLookup, held)
            assert due is not None and due.next_at <= utcnow()
            assert session.get(CallLookup, dialing) is None
        assert _recover_requests(broker) == before + 1
    finally:
        with Session(engine) as session:
            session.execute(delete(Org).where(Org.id == org.org_id))
            session.commit()
