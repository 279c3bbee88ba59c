"""A user's server in the test process: records every POST and answers as the test says.

Pre-dial checks and campaign events go to a campaign's ``server.url``; tests need one that
can answer per request (a verdict, a 500, garbage, too late, or no answer at all: the
connection dropped) and that keeps what it received, in order, with its headers.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic() on arrival
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.body)["message"]
        return message


@dataclass(frozen=True)
class Reply:
    """How to answer: ``status`` with ``body`` after ``delay`` seconds; ``drop`` closes the
    connection without answering."""

    status: int = 200
    body: bytes = b"{}"
    delay: float = 0.0
    drop: bool = False

    @staticmethod
    def json(payload: Any, *, status: int = 200, delay: float = 0.0) -> Reply:
        return Reply(status=status, body=json.dumps(payload).encode(), delay=delay)


def ok(_: Received) -> Reply:
    return Reply()


@dataclass
class UserServer:
    answer: Callable[[Received], Reply] = ok
    url: str = ""
    received: list[Received] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def record(self, request: Received) -> None:
        with self._cond:
            self.received.append(request)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.received):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def messages(self) -> list[dict[str, Any]]:
        with self._cond:
            return [request.message for request in self.received]


def _handler(server: UserServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes: with Nagle's algorithm the body would wait
        # for the sender's delayed acknowledgement (40 ms) on every answer.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            request = Received(
                at=time.monotonic(),
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length),
            )
            server.record(request)
            reply = server.answer(request)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                return
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            # The sender may have given up waiting, or stopped reading a long answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_user_server(answer: Callable[[Received], Reply] = ok) -> Iterator[UserServer]:
    """A ``UserServer`` listening on a free loopback port until the block ends."""
    server = UserServer(answer=answer)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}/hooks"
    thread = threading.Thread(target=httpd.serve_forever, name="user-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
