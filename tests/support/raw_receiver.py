"""A webhook receiver that keeps the exact bytes, headers and arrival time of every POST.

Fault and signature tests need the raw body (a signature covers bytes, a duplicate is the same
bytes) and arrival times, so this one is a plain threaded ``http.server`` answering 200.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RECEIVER_SECRET = "raw-receiver-secret"


@dataclass(frozen=True)
class Delivery:
    at: float  # time.monotonic() on arrival
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.body)["message"]
        return message

    @property
    def call_id(self) -> str:
        return str(self.message["call"]["id"])

    @property
    def step(self) -> str:
        """``ringing``, ``in-progress``, ``ended`` or ``report``."""
        message = self.message
        return "report" if message["type"] == "end-of-call-report" else str(message["status"])

    def signature_ok(self, secret: str) -> bool:
        timestamp = self.headers.get("x-timestamp", "")
        signed = timestamp.encode() + b"." + self.body
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("x-signature", ""))


@dataclass
class RawReceiver:
    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def record(self, delivery: Delivery) -> None:
        with self._cond:
            self.deliveries.append(delivery)
            self._cond.notify_all()

    def server(self) -> dict[str, Any]:
        """The ``assistantOverrides.server`` that routes a call's webhooks here."""
        return {"url": self.url, "headers": {"X-Vapi-Secret": RECEIVER_SECRET}}

    def for_call(self, call_id: str) -> list[Delivery]:
        with self._cond:
            return [d for d in self.deliveries if d.call_id == call_id]

    def steps(self, call_id: str) -> list[str]:
        return [d.step for d in self.for_call(call_id)]

    def wait_for(self, done: Callable[[], bool], timeout: float = 5.0) -> None:
        with self._cond:
            if not self._cond.wait_for(done, timeout=timeout):
                raise AssertionError(f"webhooks not received within {timeout}s")

    def wait_count(self, call_id: str, count: int, timeout: float = 5.0) -> list[Delivery]:
        """The call's deliveries once there are at least ``count`` of them."""
        self.wait_for(lambda: len(self._of(call_id)) >= count, timeout)
        return self.for_call(call_id)

    def _of(self, call_id: str) -> list[Delivery]:
        # Called with the condition held.
        return [d for d in self.deliveries if d.call_id == call_id]


@contextmanager
def raw_receiver() -> Iterator[RawReceiver]:
    receiver = RawReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {key.lower(): value for key, value in self.headers.items()}
            receiver.record(Delivery(time.monotonic(), headers, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhook"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
