"""The flows' provider fixtures (a simulated provider over real HTTP, the real rate limiter),
for the metrics that placing a call records."""

from tests.flows.conftest import limiter, provider, sends_to

__all__ = ["limiter", "provider", "sends_to"]
