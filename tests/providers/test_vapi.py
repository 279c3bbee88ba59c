"""VapiClient against a tiny real HTTP server whose first path segment picks its behaviour."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from orchestrator.providers import (
    CreateCallRequest,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
    VapiClient,
    format_timestamp,
    parse_retry_after,
)

API_KEY = "sk-live-very-secret-key-123"

CALL = {
    "id": "6f1c2a52-4d1e-4c41-9a55-2f0c6b2b7c11",
    "orgId": "org-1",
    "type": "outboundPhoneCall",
    "status": "queued",
    "createdAt": "2026-01-02T03:04:05.678Z",
    "updatedAt": "2026-01-02T03:04:05.678Z",
    "phoneNumberId": "pn-1",
    "customer": {"number": "+15550001234"},
    "assistantOverrides": {"metadata": {"contactId": "c-1"}},
    "monitor": {"listenUrl": "wss://example.invalid"},
}


class Handler(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        Handler.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        mode = self.path.split("/")[1]
        if mode == "slow":
            time.sleep(0.5)
        if mode == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, payload, headers = self._response(mode)
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _response(self, mode: str) -> tuple[int, Any, dict[str, str]]:
        nest = {"statusCode": 0, "error": "", "message": ""}
        if mode == "ok":
            listing = self.command == "GET" and self.path.split("?")[0].endswith("/call")
            return (200 if listing else 201), ([CALL] if listing else CALL), {}
        if mode == "server-error":
            return 503, {**nest, "statusCode": 503, "message": "try later"}, {}
        if mode == "rate-limited":
            return (
                429,
                {**nest, "statusCode": 429, "message": "Too Many Requests"},
                {"Retry-After": "7"},
            )
        if mode == "bad-request":
            messages = ["customer.number must be a string", "phoneNumberId must be a string"]
            return 400, {"statusCode": 400, "error": "Bad Request", "message": messages}, {}
        if mode == "echo-auth":
            auth = self.headers.get("Authorization", "")
            return 401, {"statusCode": 401, "error": "Unauthorized", "message": f"bad {auth}"}, {}
        if mode == "not-json":
            return 201, b"<html>gateway</html>", {"Content-Type": "text/html"}
        return 404, {"statusCode": 404, "error": "Not Found", "message": "no such mode"}, {}


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def make_client(server_url: str, mode: str, timeout: float = 2.0) -> VapiClient:
    return VapiClient(base_url=f"{server_url}/{mode}", api_key=API_KEY, timeout=timeout)


def request() -> CreateCallRequest:
    return CreateCallRequest(
        assistant_id="asst-1",
        phone_number_id="pn-1",
        customer={"number": "+15550001234"},
        assistant_overrides={"metadata": {"contactId": "c-1"}},
    )


def assert_key_hidden(*objects: object) -> None:
    for obj in objects:
        assert API_KEY not in str(obj)
        assert API_KEY not in repr(obj)


def test_create_call_sends_camel_case_body_and_bearer(server_url: str) -> None:
    with make_client(server_url, "ok") as client:
        call = client.create_call(request())
    sent = Handler.seen[-1]
    assert sent["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert sent["body"] == {
        "assistantId": "asst-1",
        "phoneNumberId": "pn-1",
        "customer": {"number": "+15550001234"},
        "assistantOverrides": {"metadata": {"contactId": "c-1"}},
    }
    assert call.id == CALL["id"]
    assert call.created_at == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert call.assistant_overrides == {"metadata": {"contactId": "c-1"}}
    assert call.model_extra == {"monitor": {"listenUrl": "wss://example.invalid"}}
    assert_key_hidden(client)


def test_get_and_list_calls(server_url: str) -> None:
    with make_client(server_url, "ok") as client:
        assert client.get_call(str(CALL["id"])).status == "queued"
        assert Handler.seen[-1]["path"] == f"/ok/call/{CALL['id']}"
        since = datetime(2026, 1, 1, tzinfo=UTC)
        calls = client.list_calls(created_at_gt=since, limit=50, phone_number_id="pn-1")
    assert [c.id for c in calls] == [CALL["id"]]
    path = Handler.seen[-1]["path"]
    assert "createdAtGt=2026-01-01T00%3A00%3A00.000Z" in path
    assert "limit=50" in path
    assert "phoneNumberId=pn-1" in path


def test_timeout_is_ambiguous(server_url: str) -> None:
    with (
        make_client(server_url, "slow", timeout=0.1) as client,
        pytest.raises(ProviderTimeout) as info,
    ):
        client.create_call(request())
    assert info.value.ambiguous
    assert info.value.status_code is None
    assert_key_hidden(info.value)


def test_dropped_connection_is_ambiguous(server_url: str) -> None:
    with make_client(server_url, "drop") as client, pytest.raises(ProviderTimeout) as info:
        client.create_call(request())
    assert info.value.ambiguous
    assert not isinstance(info.value, ProviderUnreachable)


def test_unreachable_provider_is_not_ambiguous() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = VapiClient(base_url=f"http://127.0.0.1:{port}", api_key=API_KEY, timeout=1.0)
    with client, pytest.raises(ProviderUnreachable) as info:
        client.create_call(request())
    assert isinstance(info.value, ProviderTimeout)
    assert not info.value.ambiguous


def test_server_error_is_ambiguous(server_url: str) -> None:
    with (
        make_client(server_url, "server-error") as client,
        pytest.raises(ProviderServerError) as info,
    ):
        client.create_call(request())
    assert info.value.ambiguous
    assert info.value.status_code == 503
    assert info.value.message == "try later"


def test_rate_limit_carries_retry_after(server_url: str) -> None:
    with (
        make_client(server_url, "rate-limited") as client,
        pytest.raises(ProviderRateLimited) as info,
    ):
        client.create_call(request())
    assert info.value.retry_after == 7.0
    assert info.value.status_code == 429
    assert not info.value.ambiguous


def test_rejection_carries_provider_messages(server_url: str) -> None:
    with make_client(server_url, "bad-request") as client, pytest.raises(ProviderRejected) as info:
        client.create_call(request())
    error = info.value
    assert error.status_code == 400
    assert not error.ambiguous
    assert error.messages == ["customer.number must be a string", "phoneNumberId must be a string"]
    assert error.message == "customer.number must be a string; phoneNumberId must be a string"
    assert "400" in str(error)


def test_api_key_never_leaks_from_errors(server_url: str) -> None:
    with make_client(server_url, "echo-auth") as client, pytest.raises(ProviderRejected) as info:
        client.get_call("abc")
    assert info.value.status_code == 401
    assert "[redacted]" in info.value.message
    assert_key_hidden(info.value, client)


def test_unreadable_success_body(server_url: str) -> None:
    with make_client(server_url, "not-json") as client, pytest.raises(ProviderError) as info:
        client.create_call(request())
    assert info.value.ambiguous  # a 201 means the call was probably created
    assert info.value.status_code == 201


def test_empty_api_key_is_refused() -> None:
    with pytest.raises(ValueError, match="api_key"):
        VapiClient(base_url="http://127.0.0.1:1", api_key=" ")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("3", 3.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        ("Fri, 02 Jan 2026 03:04:15 GMT", 10.0),
        ("soon", None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == expected


def test_format_timestamp() -> None:
    assert format_timestamp(datetime(2026, 1, 2, 3, 4, 5, 678901)) == "2026-01-02T03:04:05.678Z"
    assert format_timestamp(datetime(277, 6, 2, 11, 1, 16)) == "0277-06-02T11:01:16.000Z"
    ahead = timezone(timedelta(hours=5))
    assert format_timestamp(datetime(1, 1, 1, 2, tzinfo=ahead)) == "0001-01-01T00:00:00.000Z"
    behind = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))
    assert format_timestamp(behind) == "9999-12-31T23:59:59.999Z"
