"""One signed POST to a user's server, with a bounded wait and a bounded answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from orchestrator.user_servers.urls import resolved_problem

SIGNATURE_HEADER = "x-signature"
TIMESTAMP_HEADER = "x-timestamp"
# An answer is a verdict or an acknowledgement: anything longer is not read.
MAX_ANSWER_BYTES = 64 * 1024
# Headers the user's ``server.headers`` cannot replace: the receiver must be able to trust them.
RESERVED_HEADERS = frozenset({SIGNATURE_HEADER, TIMESTAMP_HEADER, "content-type", "host"})


def signature(secret: str, *, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256, hex, over ``{timestamp}.{body}``: what a receiver recomputes to verify."""
    payload = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def encode_body(message: Mapping[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class ServerTarget:
    url: str
    headers: Mapping[str, str]
    timeout_seconds: float


@dataclass(frozen=True)
class ServerAnswer:
    """What came back: a status and the start of the body, or why nothing did."""

    status_code: int | None = None
    body: bytes = b""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def describe(self) -> str:
        if self.error is not None:
            return self.error
        return f"answered {self.status_code}"


def _headers(
    target: ServerTarget, *, timestamp: str, sign: str | None, extra: Mapping[str, str]
) -> dict[str, str]:
    headers = {k: v for k, v in target.headers.items() if k.lower() not in RESERVED_HEADERS}
    headers.update(extra)
    headers["content-type"] = "application/json"
    headers[TIMESTAMP_HEADER] = timestamp
    if sign is not None:
        headers[SIGNATURE_HEADER] = sign
    return headers


def post_to_server(
    client: httpx.Client,
    target: ServerTarget,
    *,
    body: bytes,
    timestamp: str,
    secret: str | None,
    allow_private: bool,
    extra_headers: Mapping[str, str] | None = None,
) -> ServerAnswer:
    """POST ``body`` to the user's server; never raises for anything the server does."""
    refused = resolved_problem(target.url, allow_private=allow_private)
    if refused is not None:
        return ServerAnswer(error=f"not sent: {refused}")
    sign = signature(secret, timestamp=timestamp, body=body) if secret else None
    headers = _headers(target, timestamp=timestamp, sign=sign, extra=extra_headers or {})
    # httpx's timeout bounds each wait (connect, each read); the deadline bounds the whole, so
    # a server trickling its answer a byte at a time cannot hold a worker any longer.
    deadline = time.monotonic() + target.timeout_seconds
    late = ServerAnswer(error=f"no answer within {target.timeout_seconds:g} s")
    try:
        with client.stream(
            "POST",
            target.url,
            content=body,
            headers=headers,
            timeout=target.timeout_seconds,
            follow_redirects=False,
        ) as response:
            answer = bytearray()
            for chunk in response.iter_bytes():
                answer.extend(chunk)
                if time.monotonic() > deadline:
                    return late
                if len(answer) > MAX_ANSWER_BYTES:
                    break
            if time.monotonic() > deadline:
                return late
            body_read = bytes(answer[:MAX_ANSWER_BYTES])
            return ServerAnswer(status_code=response.status_code, body=body_read)
    except httpx.TimeoutException:
        return late
    except (httpx.HTTPError, UnicodeError, ValueError) as exc:
        return ServerAnswer(error=f"request failed: {type(exc).__name__}")
