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
