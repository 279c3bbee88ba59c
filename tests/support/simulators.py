"""Simulators served over real HTTP in the test process, drained before a test looks.

A test that checks what a simulator sent, or that it sent nothing, first drains it (``drain``):
every call's timeline has run and every webhook was delivered or given up on, so nothing more
can come. ``running`` serves one on a state dir (stopped cleanly on exit, started again on the
same dir); ``SimulatorHandle`` is what the ``start_simulator`` fixture serves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from orchestrator.providers import VapiClient
from orchestrator.simulator import SimulatorConfig, create_simulator_app, decide_outcome
from orchestrator.simulator.app import Simulator
from orchestrator.simulator.journal import JOURNAL_FILE
from orchestrator.simulator.outcomes import Outcome
from tests.support.servers import serve, wait_until

API_KEY = "sim-test-key"
PHONE = "pn-restart"


@dataclass(frozen=True)
class Sim:
    """A running simulator seen through its HTTP API."""

    base_url: str
    # The simulator itself when it is served in this process (not a child process's).
    simulator: Simulator | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_KEY}"}

    def post_call(self, number: str, server: dict[str, Any] | None = None) -> httpx.Response:
        overrides: dict[str, Any] = {"metadata": {"contactId": number}}
        if server is not None:
            overrides["server"] = server
        body = {
            "assistantId": "asst-1",
            "phoneNumberId": PHONE,
            "customer": {"number": number},
            "assistantOverrides": overrides,
        }
        return httpx.post(f"{self.base_url}/call", json=body, headers=self.headers)

    def create(self, number: str, server: dict[str, Any] | None = None) -> str:
        response = self.post_call(number, server)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def call(self, call_id: str) -> httpx.Response:
        return httpx.get(f"{self.base_url}/call/{call_id}", headers=self.headers)

    def known(self, call_id: str) -> dict[str, Any]:
        response = self.call(call_id)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def calls(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.base_url}/call", params={"limit": 1000}, headers=self.headers)
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found

    def creates_for(self, call_id: uuid.UUID) -> list[dict[str, Any]]:
        """The calls created for our call ``call_id`` (found by the metadata we sent)."""
        return [
            created
            for created in self.calls()
            if (created.get("assistantOverrides") or {})
            .get("metadata", {})
            .get("orchestratorCallId")
            == str(call_id)
        ]

    def stats(self) -> dict[str, Any]:
        found: dict[str, Any] = httpx.get(f"{self.base_url}/simulator/stats").json()
        return found

    def forget(self, body: Any) -> httpx.Response:
        return httpx.post(f"{self.base_url}/simulator/forget", json=body)

    def settled(self) -> dict[str, Any]:
        """The stats once the simulator is drained: nothing it does later can change them."""
        assert self.simulator is not None, "only a simulator served in this process drains"
        drain(self.simulator)
        return self.stats()


@contextmanager
def running(state_dir: Path | None, **overrides: Any) -> Iterator[Sim]:
    """A simulator (``instant`` unless told) on ``state_dir``, stopped cleanly on exit."""
    config = SimulatorConfig(**{"profile": "instant", "state_dir": state_dir, **overrides})
    app = create_simulator_app(config)
    with serve(app) as base_url:
        yield Sim(base_url, app.state.simulator)


@dataclass
class SimulatorHandle:
    """A simulator served by the ``start_simulator`` fixture."""

    base_url: str
    config: SimulatorConfig
    simulator: Simulator

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_KEY}"}

    def client(self, api_key: str = API_KEY) -> VapiClient:
        return VapiClient(base_url=self.base_url, api_key=api_key, timeout=5.0)

    def drain(self) -> None:
        drain(self.simulator)


StartSimulator = Callable[..., SimulatorHandle]


def drain(simulator: Simulator, timeout: float = 10.0) -> None:
    """Wait until every call has played out and every webhook was delivered or given up on:
    what the simulator did, and did not, send is then all it will send."""
    wait_until(lambda: simulator.engine.idle, timeout)


def journal_path(state_dir: Path) -> Path:
    return state_dir / JOURNAL_FILE


def journal_lines(state_dir: Path) -> list[dict[str, Any]]:
    """The journal's complete lines."""
    raw = journal_path(state_dir).read_bytes()
    return [orjson.loads(line) for line in raw.splitlines(keepends=True) if line.endswith(b"\n")]


def find_number(predicate: Callable[[str], bool], *, prefix: str = "+1444", start: int = 0) -> str:
    for i in range(start, start + 100_000):
        number = f"{prefix}{i:07d}"
        if predicate(number):
            return number
    raise AssertionError("no number found")


def outcome(number: str, profile: str, attempt: int = 1) -> Outcome:
    return decide_outcome(number=number, attempt=attempt, seed=0, profile=profile)


def number_with_reason(reason: str, *, seed: int = 0, attempt: int = 1, start: int = 0) -> str:
    """The first test number whose ``attempt``-th dial ends with ``reason``."""
    for i in range(start, start + 10_000):
        number = f"+1555{i:07d}"
        if decide_outcome(number=number, attempt=attempt, seed=seed).ended_reason == reason:
            return number
    raise AssertionError(f"no number found for {reason}")
