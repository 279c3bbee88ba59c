"""Global pacing across worker processes: two numbers at 5 calls per second, 600 contacts.

Two Celery worker processes with several threads each place the calls; the simulator's
ground truth must show no number ever over its rate in any 1-second window, never more than
``maxConcurrency`` calls at once, and the rate kept close to the limit while contacts wait.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from orchestrator.orgs.service import create_org
from orchestrator.runner import StackOptions
from tests.e2e.stack import Stack, e2e_stack
from tests.factories import customer_numbers

pytestmark = [pytest.mark.e2e, pytest.mark.acceptance]

CONTACTS = 600
CALLS_PER_SECOND = 5
MAX_CONCURRENCY = 20
CALLERS = ("pace-a", "pace-b")


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        workers=2,
        concurrency=4,
        profile="fast",
        seed=11,
        simulator_concurrency_limit=200,
    )
    with e2e_stack(options) as stack:
        yield stack


def max_in_any_second(times: Sequence[float]) -> int:
    """The most calls in any half-open 1-second window ``(t - 1, t]``."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def _created_times(stack: Stack, campaign_id: str) -> dict[str, list[float]]:
    response = httpx.get(
        f"{stack.simulator_url}/call",
        params={"limit": 1000},
        headers={"Authorization": "Bearer e2e"},
    )
    response.raise_for_status()
    times: dict[str, list[float]] = {}
    for call in response.json():
        if call["assistantOverrides"]["metadata"]["orchestratorCampaignId"] != campaign_id:
            continue
        created = datetime.fromisoformat(call["createdAt"].replace("Z", "+00:00"))
        times.setdefault(call["phoneNumberId"], []).append(created.timestamp())
    return times


def _run_campaign(client: httpx.Client) -> str:
    for caller in CALLERS:
        paced = client.put(
            f"/phone-number/{caller}/pacing",
            json={"callsPerSecond": CALLS_PER_SECOND, "maxConcurrency": None},
        )
        assert paced.status_code == 200, paced.text
    numbers = customer_numbers(CONTACTS, start=20_000)
    half = CONTACTS // 2
    body = {
        "name": "pacing acceptance",
        "assistantId": "assistant-pacing",
        "maxConcurrency": MAX_CONCURRENCY,
        "dialPlan": [
            {"phoneNumberId": caller, "customers": [{"number": n} for n in batch]}
            for caller, batch in zip(CALLERS, (numbers[:half], numbers[half:]), strict=True)
        ],
    }
    response = client.post("/campaign", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _wait_for_end(client: httpx.Client, campaign_id: str, stack: Stack) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    campaign: dict[str, Any] = {}
    while time.monotonic() < deadline:
        campaign = client.get(f"/campaign/{campaign_id}").json()
        if campaign["status"] == "ended":
            return campaign
        time.sleep(2)
    pytest.fail(f"campaign did not end: {campaign.get('pacing')}\n{stack.logs()}")


def test_two_numbers_at_five_per_second_over_two_worker_processes(
    stack: Stack, committed: Session
) -> None:
    org = create_org(committed, name=f"pacing-{uuid.uuid4()}", concurrency_limit=100)
    committed.commit()
    headers = {"Authorization": f"Bearer {org.api_key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as client:
        campaign_id = _run_campaign(client)
        campaign = _wait_for_end(client, campaign_id, stack)
    assert campaign["endedReason"] == "campaign.ended.success"
    assert campaign["contactCounters"]["pending"] == 0

    times = _created_times(stack, campaign_id)
    assert sorted(times) == sorted(CALLERS)
    assert sum(len(t) for t in times.values()) == CONTACTS
    stats = httpx.get(f"{stack.simulator_url}/simulator/stats").json()
    achieved = {}
    for caller, created in times.items():
        assert max_in_any_second(created) <= CALLS_PER_SECOND, caller
        assert stats["maxCallsPerSecondByPhoneNumber"][caller] <= CALLS_PER_SECOND, caller
        achieved[caller] = (len(created) - 1) / (max(created) - min(created))
        assert achieved[caller] >= 0.9 * CALLS_PER_SECOND, achieved
    assert stats["maxInFlight"] <= MAX_CONCURRENCY
    assert stats["concurrencyRejections"] == 0
    assert stats["numbersDialedMoreThanOnce"] == []


def test_the_window_count_is_exact_at_the_edges() -> None:
    assert max_in_any_second([0.0, 0.2, 0.4, 0.6, 0.8, 1.0]) == 5
    assert max_in_any_second([0.0, 0.2, 0.4, 0.6, 0.8, 0.99]) == 6
    assert max_in_any_second([]) == 0
