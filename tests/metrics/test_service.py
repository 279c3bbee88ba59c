"""Counters shared by every process through Redis, served at ``/metrics``."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from orchestrator.metrics.service import count, counted


def test_counts_from_any_process_add_up_and_are_served(api: TestClient) -> None:
    reason = f"test-{uuid.uuid4()}"
    count("orchestrator_webhooks_rejected", reason=reason)
    count("orchestrator_webhooks_rejected", 2, reason=reason)
    assert counted("orchestrator_webhooks_rejected", reason=reason) == 3
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    line = f'orchestrator_webhooks_rejected_total{{reason="{reason}"}} 3.0'
    assert line in response.text.splitlines()
    assert "# HELP orchestrator_counter_drift_total" in response.text


def test_a_counter_takes_exactly_its_labels() -> None:
    with pytest.raises(ValueError, match="takes labels"):
        count("orchestrator_webhook_events", type="status-update")
    with pytest.raises(KeyError):
        count("orchestrator_no_such_counter")


def test_a_never_counted_label_set_reads_zero() -> None:
    assert counted("orchestrator_calls_recovered", source=f"never-{uuid.uuid4()}") == 0


def test_campaign_event_deliveries_are_counted_and_timed(api: TestClient) -> None:
    from orchestrator.events.metrics import count_attempts
    from orchestrator.metrics.histograms import HISTOGRAMS, observe

    name = "orchestrator_campaign_event_delivery_seconds"
    before = api.get("/metrics").text
    delivered = counted("orchestrator_campaign_events", outcome="delivered")
    count_attempts({"delivered": 1, "retried": 1}, latencies=[0.3])
    observe(name, 7200.0)
    assert counted("orchestrator_campaign_events", outcome="delivered") == delivered + 1
    text = api.get("/metrics").text
    assert "orchestrator_campaign_events_pending " in text
    assert f"# TYPE {name} histogram" in text

    def bucket(page: str, bound: str) -> float:
        line = next(x for x in page.splitlines() if x.startswith(f'{name}_bucket{{le="{bound}"}}'))
        return float(line.rsplit(" ", 1)[1])

    assert bucket(text, "0.25") == bucket(before, "0.25")
    assert bucket(text, "0.5") == bucket(before, "0.5") + 1
    assert bucket(text, "3600.0") == bucket(before, "3600.0") + 1
    assert bucket(text, "86400.0") == bucket(before, "86400.0") + 2
    assert bucket(text, "+Inf") == bucket(before, "+Inf") + 2
    assert len(HISTOGRAMS[name].bounds) == 13
