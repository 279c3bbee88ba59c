"""The webhook endpoint over HTTP: the shared secret guards it, nothing is applied without it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.config import get_settings
from orchestrator.models import WebhookEvent


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
