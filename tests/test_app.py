"""The app: provider webhooks served ahead of the middleware, the intake chosen by apply mode
and closed when the app stops."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from orchestrator.app import create_app, webhook_intake
from orchestrator.config import get_settings
from orchestrator.webhooks.intake import ConnectionStore, InlineStore, StoredBatch, WebhookIntake
from orchestrator.webhooks.repository import NewEvent

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
