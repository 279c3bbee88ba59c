"""What campaign events out count: attempts by outcome, and how long delivery took."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orchestrator.metrics.histograms import observe
from orchestrator.metrics.service import count

DELIVERY_LATENCY = "orchestrator_campaign_event_delivery_seconds"


def count_attempts(outcomes: Mapping[str, int], *, latencies: Sequence[float] = ()) -> None:
    """A batch's attempts by outcome (delivered, retried, failed), and each delivered event's
    time since it happened."""
    for outcome, attempts in outcomes.items():
        if attempts:
            count("orchestrator_campaign_events", attempts, outcome=outcome)
    observe(DELIVERY_LATENCY, *(max(latency, 0.0) for latency in latencies))
