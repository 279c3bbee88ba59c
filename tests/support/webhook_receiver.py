"""A webhook receiver that keeps every POSTed message, and can answer 500 when told."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response

WEBHOOK_SECRET = "webhook-secret-value"


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = self.body["message"]
        return message

    @property
    def kind(self) -> tuple[str, str | None]:
        """``(type, status)``: enough to check the order of a call's messages."""
        return self.message["type"], self.message.get("status")


@dataclass
class WebhookReceiver:
    """Records every POSTed webhook; can answer 500 to the next ``fail_next`` requests."""

    url: str = ""
    secret: str = WEBHOOK_SECRET
    fail_next: int = 0
    always_fail: bool = False
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/webhook")
        async def webhook(request: Request) -> Response:
            body = await request.json()
            with self._cond:
                self.attempts += 1
                if self.always_fail or self.fail_next > 0:
                    self.fail_next = max(0, self.fail_next - 1)
                    return Response(status_code=500)
                self.received.append(Received(dict(request.headers), body))
                self._cond.notify_all()
            return Response(status_code=200)

        return app

    def server(self) -> dict[str, Any]:
        """The ``assistantOverrides.server`` that routes a call's webhooks here."""
        return {"url": self.url, "headers": {"X-Vapi-Secret": self.secret}}

    def for_call(self, call_id: str) -> list[Received]:
        with self._cond:
            return [r for r in self.received if r.message["call"]["id"] == call_id]

    def wait_for_report(self, call_id: str, timeout: float = 5.0) -> list[Received]:
        """All messages of a call, once its end-of-call-report has arrived."""

        def done() -> bool:
            return any(r.kind[0] == "end-of-call-report" for r in self.for_call(call_id))

        with self._cond:
            if not self._cond.wait_for(done, timeout=timeout):
                raise AssertionError(f"no end-of-call-report for {call_id} within {timeout}s")
        return self.for_call(call_id)
