"""Real servers for simulator tests: the simulator itself and a webhook receiver, each served by
uvicorn on a free loopback port in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

from orchestrator.providers import VapiClient
from orchestrator.simulator import SimulatorConfig, create_simulator_app, decide_outcome

API_KEY = "sim-test-key"
WEBHOOK_SECRET = "webhook-secret-value"


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 with a kernel-chosen port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


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


@dataclass
class SimulatorHandle:
    base_url: str
    config: SimulatorConfig

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_KEY}"}

    def client(self, api_key: str = API_KEY) -> VapiClient:
        return VapiClient(base_url=self.base_url, api_key=api_key, timeout=5.0)


StartSimulator = Callable[..., SimulatorHandle]


@pytest.fixture
def start_simulator() -> Iterator[StartSimulator]:
    """Factory: ``start_simulator(profile=..., concurrency_limit=...)`` serves a new simulator."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> SimulatorHandle:
            config = SimulatorConfig(**{"profile": "instant", **overrides})
            base_url = stack.enter_context(serve(create_simulator_app(config)))
            return SimulatorHandle(base_url, config)

        yield start


@pytest.fixture
def simulator(start_simulator: StartSimulator) -> SimulatorHandle:
    return start_simulator(webhook_backoff_seconds=0.01)


@pytest.fixture
def client(simulator: SimulatorHandle) -> Iterator[VapiClient]:
    with simulator.client() as vapi:
        yield vapi


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    with serve(receiver.app()) as base_url:
        receiver.url = f"{base_url}/webhook"
        yield receiver


def _number_with_reason(reason: str, *, seed: int = 0, attempt: int = 1, start: int = 0) -> str:
    """The first test number whose ``attempt``-th dial ends with ``reason``."""
    for i in range(start, start + 10_000):
        number = f"+1555{i:07d}"
        if decide_outcome(number=number, attempt=attempt, seed=seed).ended_reason == reason:
            return number
    raise AssertionError(f"no number found for {reason}")


def _wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@pytest.fixture
def number_with_reason() -> Callable[..., str]:
    return _number_with_reason


@pytest.fixture
def wait_until() -> Callable[..., None]:
    return _wait_until
