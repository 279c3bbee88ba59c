"""Webhook authentication through the real app: accepted requests are stored and applied;
refused ones get a 4xx, store nothing, and are counted by reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.clock import ManualClock
from orchestrator.config import get_settings
from orchestrator.metrics.service import counted
from orchestrator.models import CallStatus, WebhookEvent
from tests.factories import placed_call

URL = "/webhooks/vapi"
SECRET = "http-test-secret-0123456789"


@pytest.fixture(autouse=True)
def _known_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "webhook_secret", SECRET)


@pytest.fixture
def hmac_mode(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> ManualClock:
    monkeypatch.setattr(get_settings(), "webhook_auth_mode", "hmac")
    return clock


def _events(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)


def _rejected(reason: str) -> float:
    return counted("orchestrator_webhooks_rejected", reason=reason)


def _ringing(call_id: str | None = None) -> bytes:
    message = {"type": "status-update", "status": "ringing", "call": {"id": call_id or "x"}}
    return json.dumps({"message": message}).encode()


def _signed(body: bytes, clock: ManualClock, *, key: str = SECRET) -> dict[str, str]:
    """Headers as the simulator signs: Unix seconds, hex sha256 over ``{timestamp}.{body}``."""
    timestamp = str(int(clock().timestamp()))
    signature = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return {"x-timestamp": timestamp, "x-signature": signature.hexdigest()}


def _post(api: TestClient, body: bytes, headers: dict[str, str]) -> Any:
    return api.post(URL, content=body, headers={"Content-Type": "application/json", **headers})


def _assert_refused(
    api: TestClient, session: Session, body: bytes, headers: dict[str, str], reason: str
) -> dict[str, Any]:
    before, counted_before = _events(session), _rejected(reason)
    response = _post(api, body, headers)
    assert response.status_code == 401
    assert SECRET not in response.text
    assert _events(session) == before
    assert _rejected(reason) == counted_before + 1
    payload: dict[str, Any] = response.json()
    assert payload["statusCode"] == 401 and payload["error"] == "Unauthorized"
    return payload


def _assert_applied(api: TestClient, session: Session, headers: dict[str, str]) -> None:
    call = placed_call(session)
    before = _events(session)
    response = _post(api, _ringing(call.provider_call_id), headers)
    assert response.status_code == 200, response.text
    assert _events(session) == before + 1
    event = session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    assert event is not None and event.outcome == "applied" and event.call_id == call.id
    session.refresh(call)
    assert call.status == CallStatus.RINGING


# --- shared secret ----------------------------------------------------------------------


def test_secret_mode_accepts_the_secret_header(api: TestClient, session: Session) -> None:
    _assert_applied(api, session, {"X-Vapi-Secret": SECRET})


@pytest.mark.parametrize(
    "headers", [{"X-Vapi-Secret": "wrong"}, {}, {"Authorization": f"Bearer {SECRET}"}]
)
def test_secret_mode_refuses_wrong_or_missing(
    api: TestClient, session: Session, headers: dict[str, str]
) -> None:
    _assert_refused(api, session, _ringing(), headers, "unauthorized")


def test_secret_mode_with_a_configured_header(
    api: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_secret_header", "X-Hook-Token")
    _assert_applied(api, session, {"X-Hook-Token": SECRET})
    _assert_refused(api, session, _ringing(), {"X-Vapi-Secret": SECRET}, "unauthorized")


# --- bearer -----------------------------------------------------------------------------


def test_bearer_mode(api: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "webhook_auth_mode", "bearer")
    _assert_applied(api, session, {"Authorization": f"Bearer {SECRET}"})
    _assert_refused(api, session, _ringing(), {"Authorization": "Bearer nope"}, "unauthorized")
    _assert_refused(api, session, _ringing(), {"X-Vapi-Secret": SECRET}, "unauthorized")
    _assert_refused(api, session, _ringing(), {}, "unauthorized")


# --- HMAC -------------------------------------------------------------------------------


def test_hmac_mode_accepts_a_good_signature(
    api: TestClient, session: Session, hmac_mode: ManualClock
) -> None:
    call = placed_call(session)
    body = _ringing(call.provider_call_id)
    before = _events(session)
    response = _post(api, body, _signed(body, hmac_mode))
    assert response.status_code == 200, response.text
    assert _events(session) == before + 1
    session.refresh(call)
    assert call.status == CallStatus.RINGING


def test_hmac_mode_signature_covers_the_exact_bytes(
    api: TestClient, session: Session, hmac_mode: ManualClock
) -> None:
    """Whitespace and key order are part of what is signed: no re-serialisation."""
    call = placed_call(session)
    body = b'{ "message" : {"call": {"id": "%s"}, "status": "ringing", "type": "status-update"}}'
    body = body % (call.provider_call_id or "").encode()
    assert _post(api, body, _signed(body, hmac_mode)).status_code == 200
    session.refresh(call)
    assert call.status == CallStatus.RINGING


def test_hmac_mode_refuses_a_bad_signature(
    api: TestClient, session: Session, hmac_mode: ManualClock
) -> None:
    body = _ringing()
    headers = _signed(body, hmac_mode, key="not-the-key")
    _assert_refused(api, session, body, headers, "bad-signature")


def test_hmac_mode_refuses_a_signature_over_another_body(
    api: TestClient, session: Session, hmac_mode: ManualClock
) -> None:
    headers = _signed(_ringing("other-call"), hmac_mode)
    _assert_refused(api, session, _ringing(), headers, "bad-signature")


def test_hmac_mode_refuses_a_stale_timestamp(
    api: TestClient, session: Session, hmac_mode: ManualClock
) -> None:
    body = _ringing()
    headers = _signed(body, hmac_mode)
    hmac_mode.advance(301)
    _assert_refused(api, session, body, headers, "stale-timestamp")


def test_hmac_mode_refuses_a_timestamp_from_the_future(
    api: TestClient, session: Session, hmac_mode: ManualClock
) -> None:
    body = _ringing()
    headers = _signed(body, hmac_mode)
    hmac_mode.advance(-301)
    _assert_refused(api, session, body, headers, "stale-timestamp")


@pytest.mark.parametrize("missing", ["x-signature", "x-timestamp"])
def test_hmac_mode_refuses_missing_headers(
    api: TestClient, session: Session, hmac_mode: ManualClock, missing: str
) -> None:
    body = _ringing()
    headers = _signed(body, hmac_mode)
    del headers[missing]
    _assert_refused(api, session, body, headers, "unauthorized")


def test_hmac_mode_ignores_the_plain_secret(
    api: TestClient, session: Session, hmac_mode: ManualClock
) -> None:
    _assert_refused(api, session, _ringing(), {"X-Vapi-Secret": SECRET}, "unauthorized")


def test_hmac_mode_with_custom_headers_sha512_and_base64(
    api: TestClient, session: Session, hmac_mode: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "webhook_signature_header", "X-Sig")
    monkeypatch.setattr(settings, "webhook_timestamp_header", "X-Time")
    monkeypatch.setattr(settings, "webhook_hmac_algorithm", "sha512")
    monkeypatch.setattr(settings, "webhook_signature_encoding", "base64")
    call = placed_call(session)
    body = _ringing(call.provider_call_id)
    timestamp = str(int(hmac_mode().timestamp() * 1000))  # milliseconds are accepted too
    digest = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha512).digest()
    headers = {"X-Time": timestamp, "X-Sig": base64.b64encode(digest).decode()}
    assert _post(api, body, headers).status_code == 200
    session.refresh(call)
    assert call.status == CallStatus.RINGING
    _assert_refused(api, session, body, _signed(body, hmac_mode), "unauthorized")


def test_hmac_mode_checks_the_signature_before_the_json(
    api: TestClient, session: Session, hmac_mode: ManualClock
) -> None:
    body = b"{not json"
    _assert_refused(api, session, body, _signed(b"{}", hmac_mode), "bad-signature")
    before = _rejected("malformed-json")
    response = _post(api, body, _signed(body, hmac_mode))
    assert response.status_code == 400
    assert _rejected("malformed-json") == before + 1


# --- bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"{not json", "body must be valid JSON"), (b"[1, 2]", "body must be a JSON object")],
)
def test_malformed_json_is_400_not_stored_and_counted(
    api: TestClient, session: Session, body: bytes, message: str
) -> None:
    before, counted_before = _events(session), _rejected("malformed-json")
    response = _post(api, body, {"X-Vapi-Secret": SECRET})
    assert response.status_code == 400
    assert response.json()["message"] == [message]
    assert _events(session) == before
    assert _rejected("malformed-json") == counted_before + 1


def test_oversized_body_is_413_not_stored_and_counted(api: TestClient, session: Session) -> None:
    before, counted_before = _events(session), _rejected("too-large")
    body = b'{"pad": "' + b"x" * 1_100_000 + b'"}'
    response = _post(api, body, {"X-Vapi-Secret": SECRET})
    assert response.status_code == 413
    assert response.json()["statusCode"] == 413
    assert _events(session) == before
    assert _rejected("too-large") == counted_before + 1


def test_oversized_body_without_content_length_is_413(api: TestClient, session: Session) -> None:
    """Chunked: no Content-Length to trust, so the limit is enforced while reading."""

    def chunks() -> Iterator[bytes]:
        yield b'{"pad": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}'

    before, counted_before = _events(session), _rejected("too-large")
    response = api.post(URL, content=chunks(), headers={"X-Vapi-Secret": SECRET})
    assert response.status_code == 413
    assert _events(session) == before
    assert _rejected("too-large") == counted_before + 1


def test_credentials_are_checked_before_the_size(api: TestClient, session: Session) -> None:
    body = b"x" * 1_100_000
    _assert_refused(api, session, body, {"X-Vapi-Secret": "wrong"}, "unauthorized")


def test_unknown_message_type_is_stored_and_ignored(api: TestClient, session: Session) -> None:
    before = _events(session)
    body = json.dumps({"message": {"type": "speech-update", "status": "started"}}).encode()
    response = _post(api, body, {"X-Vapi-Secret": SECRET})
    assert response.status_code == 200
    assert _events(session) == before + 1
    event = session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    assert event is not None
    assert (event.message_type, event.outcome) == ("speech-update", "ignored")


# --- secrecy ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["secret", "bearer", "hmac"])
def test_no_secret_in_the_response_or_the_logs(
    api: TestClient,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    clock: ManualClock,
    mode: str,
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_auth_mode", mode)
    presented = SECRET[:-1] + "!"  # close to the real one, as a guess would be
    headers = {
        "X-Vapi-Secret": presented,
        "Authorization": f"Bearer {presented}",
        "x-timestamp": str(int(clock().timestamp())),
        "x-signature": hmac.new(presented.encode(), b"x", hashlib.sha256).hexdigest(),
    }
    with caplog.at_level(logging.DEBUG):
        payload = _assert_refused(api, session, _ringing(), headers, _expected_reason(mode))
    assert "webhook refused" in caplog.text
    for value in (SECRET, presented, headers["x-signature"]):
        assert value not in caplog.text
        assert value not in json.dumps(payload)


def _expected_reason(mode: str) -> str:
    return "bad-signature" if mode == "hmac" else "unauthorized"


def test_the_simulators_signed_webhooks_are_accepted(
    api: TestClient, session: Session, hmac_mode: ManualClock
) -> None:
    """Interop with the simulator's own signer, on a body that is not ASCII."""
    from orchestrator.simulator.webhooks import encode, sign

    call = placed_call(session)
    message = {"type": "status-update", "status": "ringing", "call": {"id": call.provider_call_id}}
    body = encode({"message": {**message, "customer": {"name": "José Núñez"}}})
    timestamp = str(int(hmac_mode().timestamp()))
    headers = {"x-timestamp": timestamp, "x-signature": sign(SECRET, timestamp, body)}
    assert _post(api, body, headers).status_code == 200
    session.refresh(call)
    assert call.status == CallStatus.RINGING
