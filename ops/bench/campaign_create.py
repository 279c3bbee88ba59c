"""``campaign_create_10k``: p50 wall time of one 10,000-customer ``POST /campaign``."""

from __future__ import annotations

import time

import httpx

from ops.bench.common import api_process, percentile
from orchestrator.db import session_scope
from orchestrator.orgs.service import create_org

CUSTOMERS = 10_000
RUNS = 7
AREA_CODES = ("415", "650")


def campaign_body(run: int) -> dict[str, object]:
    numbers = [f"+1{AREA_CODES[i // 10000]}555{i % 10000:04d}" for i in range(CUSTOMERS)]
    return {
        "name": f"bench-{run}",
        "assistantId": "assistant-bench",
        "phoneNumberId": "caller-bench",
        "schedulePlan": {"earliestAt": "2099-01-01T00:00:00Z"},
        "customers": [
            {"number": number, "name": f"Customer {i}"} for i, number in enumerate(numbers)
        ],
    }


def run() -> str:
    with session_scope() as session:
        api_key = create_org(session, name="bench", concurrency_limit=10).api_key
    timings = []
    with (
        api_process() as url,
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60
        ) as client,
    ):
        client.post("/campaign", json=campaign_body(-1)).raise_for_status()  # warm-up
        for index in range(RUNS):
            body = campaign_body(index)
            started = time.perf_counter()
            response = client.post("/campaign", json=body)
            timings.append(time.perf_counter() - started)
            response.raise_for_status()
            assert response.json()["callsCounterScheduled"] == CUSTOMERS
    return f"campaign_create_10k: {percentile(timings, 0.5):.3f} s"
