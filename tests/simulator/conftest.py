"""Fixtures of the simulator tests: simulators and a webhook receiver, each served for real."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from orchestrator.providers import VapiClient
from orchestrator.simulator import SimulatorConfig, create_simulator_app
from tests.support.servers import serve
from tests.support.servers import wait_until as _wait_until
from tests.support.simulators import SimulatorHandle, StartSimulator
from tests.support.simulators import number_with_reason as _number_with_reason
from tests.support.webhook_receiver import WebhookReceiver


@pytest.fixture
def start_simulator() -> Iterator[StartSimulator]:
    """Factory: ``start_simulator(profile=..., concurrency_limit=...)`` serves a new simulator."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> SimulatorHandle:
            config = SimulatorConfig(**{"profile": "instant", **overrides})
            app = create_simulator_app(config)
            base_url = stack.enter_context(serve(app))
            return SimulatorHandle(base_url, config, app.state.simulator)

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


@pytest.fixture
def number_with_reason() -> Callable[..., str]:
    return _number_with_reason


@pytest.fixture
def wait_until() -> Callable[..., None]:
    return _wait_until
