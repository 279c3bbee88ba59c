"""Fixtures of the phone-number tests: the API's provider is a simulator over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.numbers_provider import Lookups, looking_up
from tests.support.simulators import Sim, running

# The numbers the provider has from the start: one with digits of its own, one derived.
LINES = ("line-1", "line-2=+14155550123")


@pytest.fixture
def provider() -> Iterator[Sim]:
    with running(None, phone_numbers=LINES) as sim:
        yield sim


@pytest.fixture
def lookups(api: TestClient, provider: Sim) -> Iterator[Lookups]:
    """The API's phone-number endpoints ask ``provider``, counted, through a cache of their own."""
    with looking_up(api, provider.base_url) as found:
        yield found
