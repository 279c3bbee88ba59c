"""Fixtures of the flows' tests that place calls: a simulated provider over real HTTP and the
real rate limiter, both patched into the flow."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from orchestrator.config import get_settings
from orchestrator.flows import place_call as place_call_flow
from orchestrator.flows import place_calls as place_calls_flow
from orchestrator.pacing.limiter import RateLimiter
from orchestrator.providers import VapiClient
from orchestrator.simulator import FaultSpec
from tests.support.simulators import Sim, drain, running


@pytest.fixture(scope="module")
def provider() -> Iterator[Sim]:
    """A provider over real HTTP that sends no webhooks: what it was asked is all there is."""
    with running(None, faults=FaultSpec(drop=1.0)) as sim:
        yield sim


@pytest.fixture
def sends_to(provider: Sim, monkeypatch: pytest.MonkeyPatch) -> Iterator[VapiClient]:
    """The flow's provider client, pointed at the simulator."""
    with VapiClient(base_url=provider.base_url, api_key="place-test", timeout=5) as client:
        monkeypatch.setattr(place_call_flow, "provider_client", lambda: client)
        yield client
    assert provider.simulator is not None
    drain(provider.simulator)


@pytest.fixture
def limiter(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[RateLimiter]:
    """The flow's rate limiter: on the test Redis, with keys of its own, deleted afterwards."""
    client: redis.Redis[bytes] = redis.Redis.from_url(get_settings().redis_url)
    prefix = f"test:{uuid.uuid4()}:"
    limiter = RateLimiter(client, prefix=prefix)
    limiter.mark_state_complete("test")
    monkeypatch.setattr(place_call_flow, "pacing_limiter", lambda: limiter)
    monkeypatch.setattr(place_calls_flow, "pacing_limiter", lambda: limiter)
    yield limiter
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()
