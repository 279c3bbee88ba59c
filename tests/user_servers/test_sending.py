from __future__ import annotations

import socket
import threading
import time

import httpx

from orchestrator.user_servers.sending import (
    MAX_ANSWER_BYTES,
    ServerTarget,
    encode_body,
    post_to_server,
    signature,
)
from tests.support.user_server import Received, Reply, running_user_server

SECRET = "org-signing-secret"


def _target(
    url: str, *, timeout: float = 2.0, headers: dict[str, str] | None = None
) -> ServerTarget:
    return ServerTarget(url=url, headers=headers or {}, timeout_seconds=timeout)


def test_a_post_is_signed_over_timestamp_and_body_and_carries_the_users_headers() -> None:
    with running_user_server() as server, httpx.Client() as client:
        body = encode_body({"message": {"type": "campaign.event"}})
        answer = post_to_server(
            client,
            _target(server.url, headers={"x-api-key": "k1", "X-Signature": "forged"}),
            body=body,
            timestamp="1700000000",
            secret=SECRET,
            allow_private=True,
            extra_headers={"x-event-id": "e1"},
        )
    assert answer.ok and answer.status_code == 200
    [received] = server.received
    assert received.body == body
    assert received.headers["x-api-key"] == "k1"
    assert received.headers["x-event-id"] == "e1"
    assert received.headers["x-timestamp"] == "1700000000"
    # The user's headers cannot replace the signature the receiver checks.
    expected = signature(SECRET, timestamp="1700000000", body=body)
    assert received.headers["x-signature"] == expected
    assert received.headers["content-type"] == "application/json"


def test_what_the_server_does_is_an_answer_never_an_exception() -> None:
    replies = iter(
        [Reply(status=500, body=b"boom"), Reply(drop=True), Reply(delay=1.0), Reply(status=302)]
    )

    def answer(_: Received) -> Reply:
        return next(replies)

    with running_user_server(answer) as server, httpx.Client() as client:

        def post() -> tuple[int | None, str]:
            result = post_to_server(
                client,
                _target(server.url, timeout=0.3),
                body=b"{}",
                timestamp="1",
                secret=None,
                allow_private=True,
            )
            return result.status_code, result.describe()

        assert post() == (500, "answered 500")
        dropped = post()
        assert dropped[0] is None and dropped[1].startswith("request failed")
        assert post() == (None, "no answer within 0.3 s")
        # Redirects are not followed: they could lead anywhere.
        assert post() == (302, "answered 302")
    assert "x-signature" not in server.received[0].headers


def test_a_long_answer_is_cut_and_a_refused_url_is_never_sent() -> None:
    long = Reply(body=b"x" * (MAX_ANSWER_BYTES * 4))
    with running_user_server(lambda _: long) as server, httpx.Client() as client:
        answer = post_to_server(
            client, _target(server.url), body=b"{}", timestamp="1", secret=None, allow_private=True
        )
        assert answer.ok and len(answer.body) == MAX_ANSWER_BYTES
        refused = post_to_server(
            client, _target(server.url), body=b"{}", timestamp="1", secret=None, allow_private=False
        )
    assert refused.status_code is None and refused.error is not None
    assert refused.error.startswith("not sent: must not point at a loopback")
    assert len(server.received) == 1


def _trickling_server(listener: socket.socket) -> None:
    """Sends its headers at once, then its body one byte every 0.1 s."""
    conn, _ = listener.accept()
    with conn:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 40\r\n\r\n")
        for _ in range(40):
            time.sleep(0.1)
            try:
                conn.sendall(b" ")
            except OSError:
                return


def test_an_answer_trickled_past_the_timeout_is_late_though_each_read_was_quick() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        threading.Thread(target=_trickling_server, args=(listener,), daemon=True).start()
        started = time.monotonic()
        with httpx.Client() as client:
            answer = post_to_server(
                client,
                _target(f"http://127.0.0.1:{port}/hook", timeout=0.5),
                body=b"{}",
                timestamp="1",
                secret=None,
                allow_private=True,
            )
    assert answer.error == "no answer within 0.5 s"
    assert time.monotonic() - started < 1.5
