"""Calls the provider has forgotten end as ``provider-call-not-found`` and free their capacity,
while another campaign of the same org dials at full speed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Campaign
from orchestrator.reasons import PROVIDER_CALL_NOT_FOUND
from orchestrator.runner import StackOptions
from tests.support.ground_truth import (
    all_simulator_calls,
    simulator_stats,
    start_paced_campaign,
    wait_for_end,
)
from tests.support.stack import Stack, e2e_stack

pytestmark = [pytest.mark.e2e, pytest.mark.acceptance]

LINES = ("forget-a", "forget-b")
CONTACTS = 50
# Silent calls are looked up after 20 s here (120 s by default), so the run takes about a
# minute and a half; the confirming second 404 still comes a minute after the first.
STACK_ENV = {"ORCH_CALL_SILENCE_SECONDS": "20", "ORCH_RECOVERY_INTERVAL_SECONDS": "2"}


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        workers=1,
        concurrency=8,
        # Calls ring for seconds and talk for minutes: they are in flight when forgotten.
        profile="realistic",
        seed=13,
        simulator_concurrency_limit=500,
        org_concurrency_limit=2 * CONTACTS,
    )
    with e2e_stack(options, environment=STACK_ENV) as stack:
        yield stack


def _post(client: httpx.Client, first: int) -> str:
    half = CONTACTS // 2
    return start_paced_campaign(
        client,
        name=f"forget {first}",
        calls_per_second=25,
        number_caps=dict.fromkeys(LINES),
        contacts_by_caller={LINES[0]: half, LINES[1]: CONTACTS - half},
        max_concurrency=CONTACTS,
        first_number=first,
    )


def _placed(stack: Stack, campaign_id: str, count: int, timeout: float) -> float:
    """Seconds until the simulator has ``count`` calls of the campaign."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if len(all_simulator_calls(stack, campaign_id=campaign_id)) >= count:
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(f"fewer than {count} calls of {campaign_id} placed\n{stack.logs()}")


def _forget_in_flight(stack: Stack) -> list[str]:
    response = httpx.post(f"{stack.simulator_url}/simulator/forget", json={"inFlight": True})
    assert response.status_code == 200, response.text
    forgotten: list[str] = response.json()["forgotten"]
    return forgotten


def _not_found_total(stack: Stack) -> float:
    text = httpx.get(f"{stack.api_url}/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "orchestrator_calls_provider_not_found_total"
    )


def test_forgotten_calls_end_as_not_found_while_another_campaign_dials_at_full_speed(
    stack: Stack, committed: Session
) -> None:
    headers = {"Authorization": f"Bearer {stack.info.api_key}"}
    counted_before = _not_found_total(stack)
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as client:
        forgetful = _post(client, first=60_000)
        _placed(stack, forgetful, CONTACTS, timeout=30)
        forgotten = _forget_in_flight(stack)
        forgot_at = time.monotonic()
        assert len(forgotten) >= CONTACTS - 5, "the calls should still have been in flight"
        assert simulator_stats(stack)["inFlight"] == 0
        other = _post(client, first=61_000)
        seconds = _placed(stack, other, CONTACTS, timeout=30)
        held = client.get(f"/campaign/{forgetful}").json()
        assert held["callsCounterQueued"] + held["callsCounterInProgress"] >= len(forgotten)
        assert seconds < 5, f"the other campaign took {seconds:.1f} s to place its calls"
        ended = wait_for_end(client, forgetful, stack, timeout=240)
        print(
            f"\n{len(forgotten)} forgotten calls ended as {PROVIDER_CALL_NOT_FOUND} in "
            f"{time.monotonic() - forgot_at:.0f} s; the other campaign placed its "
            f"{CONTACTS} calls in {seconds:.1f} s meanwhile"
        )
        _check_not_found(ended, set(forgotten))
        wait_for_end(client, other, stack, timeout=240)
    # Calls other tests left in flight in the shared database may end so too.
    assert _not_found_total(stack) >= counted_before + len(forgotten)
    for campaign_id in (forgetful, other):
        campaign = committed.get(Campaign, uuid.UUID(campaign_id))
        assert campaign is not None
        assert counter_drift(committed, campaign=campaign) == {}


def _check_not_found(campaign: dict[str, Any], forgotten: set[str]) -> None:
    calls: dict[str, dict[str, Any]] = campaign["calls"]
    not_found = {
        provider_id
        for provider_id, call in calls.items()
        if call["endedReason"] == PROVIDER_CALL_NOT_FOUND
    }
    assert not_found == forgotten
    assert all(call["status"] == "ended" for call in calls.values())
    assert campaign["callsCounterQueued"] == campaign["callsCounterInProgress"] == 0
    contacts = campaign["contactCounters"]
    assert contacts["failed"] >= len(forgotten)
    assert contacts["pending"] == contacts["dispatched"] == 0
