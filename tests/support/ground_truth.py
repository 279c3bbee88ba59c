"""Acceptance runs: starting a paced campaign, and reading the simulator's ground truth for it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.factories import customer_numbers
from tests.support.stack import Stack


def start_paced_campaign(
    client: httpx.Client,
    *,
    name: str,
    calls_per_second: float,
    number_caps: dict[str, int | None],
    contacts_by_caller: dict[str, int],
    max_concurrency: int,
    first_number: int,
) -> str:
    """Pace each caller number, then post one campaign dialing ``contacts_by_caller``."""
    for caller, cap in number_caps.items():
        paced = client.put(
            f"/phone-number/{caller}/pacing",
            json={"callsPerSecond": calls_per_second, "maxConcurrency": cap},
        )
        assert paced.status_code == 200, paced.text
    total = sum(contacts_by_caller.values())
    numbers = iter(customer_numbers(total, start=first_number))
    body = {
        "name": name,
        "assistantId": "assistant-acceptance",
        "maxConcurrency": max_concurrency,
        "dialPlan": [
            {"phoneNumberId": caller, "customers": [{"number": next(numbers)} for _ in range(n)]}
            for caller, n in contacts_by_caller.items()
        ],
    }
    response = client.post("/campaign", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def max_in_any_second(times: Sequence[float]) -> int:
    """The most calls in any half-open 1-second window ``(t - 1, t]``."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def created_times(stack: Stack, campaign_id: str) -> dict[str, list[float]]:
    """Epoch seconds the simulator created each of the campaign's calls, by caller number."""
    times: dict[str, list[float]] = {}
    for call in all_simulator_calls(stack, campaign_id=campaign_id):
        created = datetime.fromisoformat(call["createdAt"].replace("Z", "+00:00"))
        times.setdefault(call["phoneNumberId"], []).append(created.timestamp())
    return times


def simulator_stats(stack: Stack) -> dict[str, Any]:
    return stats_at(stack.simulator_url)


def stats_at(simulator_url: str) -> dict[str, Any]:
    response = httpx.get(f"{simulator_url}/simulator/stats")
    response.raise_for_status()
    stats: dict[str, Any] = response.json()
    return stats


def wait_for_end(
    client: httpx.Client, campaign_id: str, stack: Stack, *, timeout: float = 300
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    campaign: dict[str, Any] = {}
    while time.monotonic() < deadline:
        campaign = client.get(f"/campaign/{campaign_id}").json()
        if campaign["status"] == "ended":
            return campaign
        time.sleep(2)
    pytest.fail(f"campaign did not end: {campaign.get('pacing')}\n{stack.logs()}")


def all_simulator_calls(stack: Stack, *, campaign_id: str | None = None) -> list[dict[str, Any]]:
    """Every call the simulator really created (oldest first), paging past its 1000 limit."""
    return calls_at(stack.simulator_url, campaign_id=campaign_id)


def calls_at(simulator_url: str, *, campaign_id: str | None = None) -> list[dict[str, Any]]:
    """``all_simulator_calls`` of the simulator at ``simulator_url``."""
    calls: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"limit": 1000}
    while True:
        response = httpx.get(
            f"{simulator_url}/call",
            params=params,
            headers={"Authorization": "Bearer e2e"},
            timeout=30,
        )
        response.raise_for_status()
        page: list[dict[str, Any]] = response.json()
        fresh = [call for call in page if call["id"] not in calls]
        calls.update((call["id"], call) for call in page)
        if len(page) < params["limit"] or not fresh:
            break
        # Newest first: the next page ends just after this page's oldest (ties overlap).
        oldest = min(datetime.fromisoformat(c["createdAt"].replace("Z", "+00:00")) for c in page)
        params["createdAtLt"] = (oldest + timedelta(milliseconds=1)).isoformat()
    found = [
        call
        for call in calls.values()
        if campaign_id is None
        or call["assistantOverrides"]["metadata"].get("orchestratorCampaignId") == campaign_id
    ]
    return sorted(found, key=lambda call: (call["createdAt"], call["id"]))


def all_simulator_chats(stack: Stack) -> list[dict[str, Any]]:
    """Every chat the simulator really made (oldest first), page after page."""
    return _paged(stack.simulator_url, "/chat")


def all_simulator_sessions(stack: Stack) -> list[dict[str, Any]]:
    """Every session the simulator holds (oldest first), with its whole message list."""
    return _paged(stack.simulator_url, "/session")


def _paged(simulator_url: str, path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        response = httpx.get(
            f"{simulator_url}{path}",
            params={"limit": 1000, "page": page, "sortOrder": "ASC"},
            headers={"Authorization": "Bearer e2e"},
            timeout=30,
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        found += body["results"]
        if len(found) >= body["metadata"]["totalItems"] or not body["results"]:
            return found
        page += 1
