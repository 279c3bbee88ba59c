"""A provider's ``/chat`` and ``/session`` in the test process, over real HTTP, shaped as Vapi's.

``POST /chat`` with the SMS transport opens a session (or continues the one named) and answers
the ``Chat``; each create is answered as the test says (``ChatServer.next_answers``): made and
answered, a 429 with Retry-After, a 400 refusal, or made and then a 500 (an ambiguous create),
or a 500 before anything was made. ``GET /chat`` lists what was made, newest first, filtered by
``sessionId``, ``createdAtGe`` and ``createdAtLe`` and paged; ``GET /session/{id}`` answers
the session.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

MADE = "made"
RATE_LIMITED = "429"
REFUSED = "400"
MADE_THEN_500 = "made-then-500"
LOST_500 = "500"


@dataclass
class ChatServer:
    url: str = ""
    # How the next creates are answered, in order; then every create is made.
    next_answers: list[str] = field(default_factory=list)
    creates: list[dict[str, Any]] = field(default_factory=list)
    create_times: list[float] = field(default_factory=list)
    chats: list[dict[str, Any]] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.creates.append(body)
            self.create_times.append(time.time())
            answer = self.next_answers.pop(0) if self.next_answers else MADE
            if answer == RATE_LIMITED:
                return 429, {"message": "Too Many Requests", "statusCode": 429}
            if answer == REFUSED:
                return 400, {"message": ["phoneNumberId is not SMS enabled"], "statusCode": 400}
            if answer == LOST_500:
                return 500, {"message": "Internal server error", "statusCode": 500}
            chat = self._make(body)
            if answer == MADE_THEN_500:
                return 500, {"message": "Internal server error", "statusCode": 500}
            return 201, chat

    def _make(self, body: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        session_id = body.get("sessionId") or str(uuid.uuid4())
        transport = body.get("transport") or {}
        self.sessions.setdefault(
            session_id,
            {
                "id": session_id,
                "orgId": "provider-org",
                "status": "active",
                "messages": [],
                "customer": transport.get("customer"),
                "phoneNumberId": transport.get("phoneNumberId"),
                "createdAt": now,
                "updatedAt": now,
            },
        )
        sent = {"role": "assistant", "message": body.get("input")}
        self.sessions[session_id]["messages"].append(sent)
        chat = {
            "id": str(uuid.uuid4()),
            "orgId": "provider-org",
            "sessionId": session_id,
            "input": body.get("input"),
            "messages": [{"role": "user", "message": body.get("input")}],
            "output": [sent],
            "assistantOverrides": body.get("assistantOverrides"),
            "name": body.get("name"),
            "cost": 0.0075,
            "createdAt": now,
            "updatedAt": now,
        }
        self.chats.append(chat)
        return chat

    def list_chats(self, query: dict[str, list[str]]) -> dict[str, Any]:
        with self.lock:
            found = list(reversed(self.chats))
        if "sessionId" in query:
            found = [c for c in found if c["sessionId"] == query["sessionId"][0]]
        if "createdAtGe" in query:
            since = query["createdAtGe"][0]
            found = [c for c in found if _instant(c["createdAt"]) >= _instant(since)]
        if "createdAtLe" in query:
            until = query["createdAtLe"][0]
            found = [c for c in found if _instant(c["createdAt"]) <= _instant(until)]
        limit = int(query.get("limit", ["100"])[0])
        page = int(query.get("page", ["1"])[0])
        results = found[(page - 1) * limit : page * limit]
        return {"results": results, "metadata": {"itemsPerPage": limit, "currentPage": page}}


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _answer(self, status: int, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self._answer(*server.create(json.loads(self.rfile.read(length))))

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/chat":
                self._answer(200, server.list_chats(parse_qs(url.query)))
                return
            found = server.sessions.get(url.path.removeprefix("/session/"))
            if url.path.startswith("/session/") and found is not None:
                self._answer(200, found)
                return
            self._answer(404, {"message": "Not Found", "statusCode": 404})

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_chat_server() -> Iterator[ChatServer]:
    """A ``ChatServer`` listening on a free loopback port until the block ends."""
    server = ChatServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, name="chat-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
