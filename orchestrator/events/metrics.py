"""What campaign events out count: attempts by outcome, and how long delivery took."""

from __future__ import annotations

from orchestrator.metrics.histograms import observe
from orchestrator.metrics.service import count

DELIVERY_LATENCY = "orchestrator_campaign_event_delivery_seconds"


def count_attempt(outcome: str, *, latency: float | None = None) -> None:
    """One attempt's outcome (delivered, retried, failed); a delivery's time since its event."""
    count("orchestrator_campaign_events", outcome=outcome)
    if latency is not None:
        observe(DELIVERY_LATENCY, max(latency, 0.0))
