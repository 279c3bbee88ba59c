"""Fixtures of the pacing tests: a rate limiter on the test Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from orchestrator.config import get_settings
from orchestrator.pacing.limiter import RateLimiter


@pytest.fixture
def limiter(database_url: str) -> Iterator[RateLimiter]:
    """A limiter of its own (own key prefix) on the test Redis, state complete; its keys are
    deleted afterwards."""
    client: redis.Redis[bytes] = redis.Redis.from_url(get_settings().redis_url)
    prefix = f"test:{uuid.uuid4()}:"
    limiter = RateLimiter(client, prefix=prefix)
    limiter.mark_state_complete("test")
    yield limiter
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()
