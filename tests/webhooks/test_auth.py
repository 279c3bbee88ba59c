"""The webhook verifier on its own: every mode, every way a credential can be wrong."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from starlette.datastructures import Headers

from orchestrator.clock import ManualClock
from orchestrator.config import Settings
from orchestrator.webhooks.auth import (
    BAD_SIGNATURE,
    BAD_TIMESTAMP,
    STALE_TIMESTAMP,
    UNAUTHORIZED,
    WebhookRejected,
    check_body,
    check_headers,
    parse_timestamp,
    sign,
    signed_payload,
)

KEY = "k3y-for-tests"
BODY = b'{"message":{"type":"status-update","status":"ringing","call":{"id":"c-1"}}}'


def settings(**fields: Any) -> Settings:
    return Settings(webhook_secret=KEY, **fields)


def hmac_settings(**fields: Any) -> Settings:
    return settings(webhook_auth_mode="hmac", **fields)


def verify(config: Settings, headers: dict[str, str], body: bytes = BODY) -> None:
    """Both halves, as the endpoint runs them."""
    received = Headers(headers)
    check_headers(received, settings=config)
    check_body(received, body, method="POST", settings=config)


def rejection(config: Settings, headers: dict[str, str], body: bytes = BODY) -> str:
    with pytest.raises(WebhookRejected) as raised:
        verify(config, headers, body)
    assert raised.value.status_code == 401
    assert KEY not in str(raised.value)
    return raised.value.reason


def simulator_headers(now: ManualClock, body: bytes = BODY, key: str = KEY) -> dict[str, str]:
    """The simulator's contract, computed independently of the verifier's own code."""
    timestamp = str(int(now().timestamp()))
    payload = timestamp.encode() + b"." + body
    signature = hmac.new(key.encode(), payload, hashlib.sha256).hexdigest()
    return {"x-timestamp": timestamp, "x-signature": signature}


# --- shared secret ----------------------------------------------------------------------


def test_secret_mode_is_the_default_with_vapis_legacy_header() -> None:
    config = settings()
    assert config.webhook_auth_mode == "secret"
    verify(config, {"X-Vapi-Secret": KEY})
    verify(config, {"x-vapi-secret": KEY})


def test_secret_mode_refuses_a_wrong_or_missing_secret() -> None:
    config = settings()
    assert rejection(config, {"X-Vapi-Secret": KEY + "x"}) == UNAUTHORIZED
    assert rejection(config, {"X-Vapi-Secret": ""}) == UNAUTHORIZED
    assert rejection(config, {}) == UNAUTHORIZED
    assert rejection(config, {"Authorization": f"Bearer {KEY}"}) == UNAUTHORIZED


def test_secret_mode_reads_a_configured_header_name() -> None:
    config = settings(webhook_secret_header="X-Hook-Token")
    verify(config, {"X-Hook-Token": KEY})
    assert rejection(config, {"X-Vapi-Secret": KEY}) == UNAUTHORIZED


def test_an_empty_configured_secret_refuses_everything() -> None:
    config = Settings(webhook_secret="")
    with pytest.raises(WebhookRejected):
        verify(config, {"X-Vapi-Secret": ""})


# --- bearer -----------------------------------------------------------------------------


def test_bearer_mode_accepts_the_token_whatever_the_scheme_case() -> None:
    config = settings(webhook_auth_mode="bearer")
    verify(config, {"Authorization": f"Bearer {KEY}"})
    verify(config, {"authorization": f"bearer {KEY}"})


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {KEY}"},
        {"Authorization": KEY},
        {"Authorization": "Bearer "},
        {"X-Vapi-Secret": KEY},
        {},
    ],
)
def test_bearer_mode_refuses_anything_else(headers: dict[str, str]) -> None:
    assert rejection(settings(webhook_auth_mode="bearer"), headers) == UNAUTHORIZED


# --- HMAC -------------------------------------------------------------------------------


def test_hmac_defaults_are_vapis() -> None:
    config = Settings()
    assert config.webhook_signature_header == "x-signature"
    assert config.webhook_timestamp_header == "x-timestamp"
    assert config.webhook_hmac_algorithm == "sha256"
    assert config.webhook_signature_encoding == "hex"
    assert config.webhook_signature_payload == "{timestamp}.{body}"
    assert config.webhook_replay_window_seconds == 300


def test_hmac_accepts_the_simulators_signature(clock: ManualClock) -> None:
    verify(hmac_settings(), simulator_headers(clock))


def test_hmac_accepts_a_timestamp_in_milliseconds(clock: ManualClock) -> None:
    config = hmac_settings()
    timestamp = str(int(clock().timestamp() * 1000))
    signature = sign(timestamp.encode() + b"." + BODY, settings=config)
    verify(config, {"x-timestamp": timestamp, "x-signature": signature})


def test_hmac_refuses_a_wrong_signature(clock: ManualClock) -> None:
    headers = simulator_headers(clock, key="another-key")
    assert rejection(hmac_settings(), headers) == BAD_SIGNATURE


def test_hmac_refuses_a_signature_made_for_another_body(clock: ManualClock) -> None:
    headers = simulator_headers(clock, body=BODY.replace(b"ringing", b"ended"))
    assert rejection(hmac_settings(), headers) == BAD_SIGNATURE


def test_hmac_refuses_a_signature_that_is_not_hex(clock: ManualClock) -> None:
    headers = {**simulator_headers(clock), "x-signature": "not-a-signature"}
    assert rejection(hmac_settings(), headers) == BAD_SIGNATURE


def test_hmac_refuses_a_timestamp_changed_after_signing(clock: ManualClock) -> None:
    headers = simulator_headers(clock)
    headers["x-timestamp"] = str(int(headers["x-timestamp"]) + 1)
    assert rejection(hmac_settings(), headers) == BAD_SIGNATURE


def test_hmac_accepts_uppercase_hex(clock: ManualClock) -> None:
    headers = simulator_headers(clock)
    verify(hmac_settings(), {**headers, "x-signature": headers["x-signature"].upper()})


def test_hmac_replay_window_reaches_exactly_its_edges(clock: ManualClock) -> None:
    config = hmac_settings(webhook_replay_window_seconds=300)
    headers = simulator_headers(clock)
    clock.advance(300)
    verify(config, headers)
    clock.advance(1)
    assert rejection(config, headers) == STALE_TIMESTAMP


def test_hmac_refuses_a_timestamp_too_far_in_the_future(clock: ManualClock) -> None:
    config = hmac_settings(webhook_replay_window_seconds=60)
    headers = simulator_headers(clock)
    clock.advance(-61)
    assert rejection(config, headers) == STALE_TIMESTAMP
    clock.advance(2)
    verify(config, headers)


def test_a_stale_timestamp_is_refused_before_the_body_is_looked_at(clock: ManualClock) -> None:
    headers = simulator_headers(clock)
    clock.advance(3600)
    with pytest.raises(WebhookRejected) as raised:
        check_headers(Headers(headers), settings=hmac_settings())
    assert raised.value.reason == STALE_TIMESTAMP


@pytest.mark.parametrize("timestamp", ["", "soon", "-5", "1e9", "12 34", "0x10"])
def test_hmac_refuses_a_timestamp_that_is_not_a_number(clock: ManualClock, timestamp: str) -> None:
    headers = {**simulator_headers(clock), "x-timestamp": timestamp}
    assert rejection(hmac_settings(), headers) == BAD_TIMESTAMP


@pytest.mark.parametrize("missing", ["x-signature", "x-timestamp"])
def test_hmac_refuses_a_missing_header(clock: ManualClock, missing: str) -> None:
    headers = simulator_headers(clock)
    del headers[missing]
    assert rejection(hmac_settings(), headers) == UNAUTHORIZED


def test_hmac_refuses_the_secret_sent_as_a_plain_header() -> None:
    assert rejection(hmac_settings(), {"X-Vapi-Secret": KEY}) == UNAUTHORIZED


def test_hmac_base64_encoding(clock: ManualClock) -> None:
    config = hmac_settings(webhook_signature_encoding="base64")
    timestamp = str(int(clock().timestamp()))
    digest = hmac.new(KEY.encode(), f"{timestamp}.".encode() + BODY, hashlib.sha256).digest()
    headers = {"x-timestamp": timestamp, "x-signature": base64.b64encode(digest).decode()}
    verify(config, headers)
    assert rejection(hmac_settings(), headers) == BAD_SIGNATURE, "hex expected by default"


@pytest.mark.parametrize("algorithm", ["sha1", "sha512"])
def test_hmac_other_algorithms(clock: ManualClock, algorithm: str) -> None:
    config = hmac_settings(webhook_hmac_algorithm=algorithm)
    timestamp = str(int(clock().timestamp()))
    payload = f"{timestamp}.".encode() + BODY
    signature = hmac.new(KEY.encode(), payload, getattr(hashlib, algorithm)).hexdigest()
    headers = {"x-timestamp": timestamp, "x-signature": signature}
    verify(config, headers)
    assert rejection(hmac_settings(), headers) == BAD_SIGNATURE, "sha256 expected by default"


def test_hmac_custom_header_names(clock: ManualClock) -> None:
    config = hmac_settings(
        webhook_signature_header="X-Hook-Signature", webhook_timestamp_header="X-Hook-Time"
    )
    headers = simulator_headers(clock)
    renamed = {"X-Hook-Time": headers["x-timestamp"], "X-Hook-Signature": headers["x-signature"]}
    verify(config, renamed)
    assert rejection(config, headers) == UNAUTHORIZED


@pytest.mark.parametrize("prefix", ["sha256=", "v1="])
def test_hmac_signature_prefix(clock: ManualClock, prefix: str) -> None:
    config = hmac_settings(webhook_signature_prefix="v1=")
    headers = simulator_headers(clock)
    verify(config, {**headers, "x-signature": prefix + headers["x-signature"]})


def test_hmac_without_timestamp_in_the_payload_signs_the_body_alone() -> None:
    config = hmac_settings(webhook_signature_payload="{body}")
    signature = hmac.new(KEY.encode(), BODY, hashlib.sha256).hexdigest()
    verify(config, {"x-signature": signature})
    assert rejection(config, {"x-signature": signature}, BODY + b" ") == BAD_SIGNATURE


def test_hmac_payload_with_the_method(clock: ManualClock) -> None:
    config = hmac_settings(webhook_signature_payload="{method}:{timestamp}:{body}")
    timestamp = str(int(clock().timestamp()))
    payload = f"POST:{timestamp}:".encode() + BODY
    signature = hmac.new(KEY.encode(), payload, hashlib.sha256).hexdigest()
    verify(config, {"x-timestamp": timestamp, "x-signature": signature})


def test_signed_payload_keeps_the_body_bytes_exactly() -> None:
    body = b'{"a": "caf\xc3\xa9 {timestamp} \xff"}'
    payload = signed_payload("{timestamp}.{body}", body=body, timestamp="17", method="POST")
    assert payload == b"17." + body


def test_an_unknown_payload_field_is_a_configuration_error(clock: ManualClock) -> None:
    config = hmac_settings(webhook_signature_payload="{timestamp}.{url}.{body}")
    with pytest.raises(ValueError, match="url"):
        verify(config, simulator_headers(clock))


def test_parse_timestamp_tells_seconds_from_milliseconds() -> None:
    assert parse_timestamp("1772463600") == 1772463600
    assert parse_timestamp("1772463600000") == 1772463600
    assert parse_timestamp("1772463600.5") == 1772463600.5
    with pytest.raises(WebhookRejected):
        parse_timestamp("2026-03-02T15:00:00Z")
