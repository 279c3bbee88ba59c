"""A 300-contact campaign over two caller numbers, through every real component."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from vapi import CreateCustomerDto, Vapi
from vapi.types import CallBatchResponse

from orchestrator.calls.ended_reasons import completes_contact
from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Call, Campaign, Contact
from orchestrator.orgs.service import create_org
from orchestrator.runner import StackOptions
from tests.factories import customer_numbers
from tests.support.ground_truth import all_simulator_calls
from tests.support.stack import Stack, e2e_stack

pytestmark = pytest.mark.e2e

CONTACTS = 300
MAX_CONCURRENCY = 12


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        workers=1,
        concurrency=8,
        profile="fast",
        seed=7,
        simulator_concurrency_limit=100,
    )
    with e2e_stack(options) as stack:
        yield stack


def _wait_for_end(client: httpx.Client, campaign_id: str, stack: Stack) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        campaign: dict[str, Any] = client.get(f"/campaign/{campaign_id}").json()
        if campaign["status"] == "ended":
            return campaign
        time.sleep(0.5)
    pytest.fail(f"campaign did not end: {campaign}\n{stack.logs()}")


def _post_campaign(client: httpx.Client) -> dict[str, Any]:
    for caller in ("caller-a", "caller-b"):
        paced = client.put(
            f"/phone-number/{caller}/pacing", json={"callsPerSecond": 25, "maxConcurrency": None}
        )
        assert paced.status_code == 200, paced.text
    numbers = customer_numbers(CONTACTS, start=5000)
    half = CONTACTS // 2
    body = {
        "name": "end-to-end",
        "assistantId": "assistant-e2e",
        "maxConcurrency": MAX_CONCURRENCY,
        "dialPlan": [
            {"phoneNumberId": "caller-a", "customers": [{"number": n} for n in numbers[:half]]},
            {"phoneNumberId": "caller-b", "customers": [{"number": n} for n in numbers[half:]]},
        ],
    }
    response = client.post("/campaign", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_campaign_runs_to_success_matching_ground_truth(stack: Stack, committed: Session) -> None:
    org = create_org(committed, name=f"e2e-{uuid.uuid4()}", concurrency_limit=50)
    committed.commit()
    headers = {"Authorization": f"Bearer {org.api_key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as client:
        created = _post_campaign(client)
        campaign = _wait_for_end(client, created["id"], stack)
    assert campaign["endedReason"] == "campaign.ended.success"

    truth = all_simulator_calls(stack, campaign_id=created["id"])
    dialed = Counter(call["customer"]["number"] for call in truth)
    assert len(dialed) == CONTACTS
    assert max(dialed.values()) == 1, "a customer was dialed twice"
    assert {call["status"] for call in truth} == {"ended"}

    stats = httpx.get(f"{stack.simulator_url}/simulator/stats").json()
    assert stats["maxInFlight"] <= MAX_CONCURRENCY
    assert stats["concurrencyRejections"] == 0

    by_provider_id = {call["id"]: call for call in truth}
    assert set(campaign["calls"]) == set(by_provider_id)
    for provider_id, ours in campaign["calls"].items():
        assert ours["endedReason"] == by_provider_id[provider_id]["endedReason"]
        assert ours["status"] == "ended"

    campaign_id = uuid.UUID(created["id"])
    rows = committed.execute(
        select(Contact.status, Contact.number, Contact.phone_number_id, Call.provider_call_id)
        .join(Call, Call.contact_id == Contact.id)
        .where(Contact.campaign_id == campaign_id)
    ).all()
    assert len(rows) == CONTACTS
    for status, number, caller, provider_id in rows:
        real = by_provider_id[provider_id]
        assert real["customer"]["number"] == number
        assert real["phoneNumberId"] == caller
        expected = "completed" if completes_contact(real["endedReason"]) else "failed"
        assert status == expected, (number, real["endedReason"])

    stored = committed.get(Campaign, campaign_id)
    assert stored is not None
    assert counter_drift(committed, campaign=stored) == {}
    assert campaign["callsCounterEnded"] == CONTACTS
    voicemails = sum(1 for call in truth if call["endedReason"] == "voicemail")
    assert campaign["callsCounterEndedVoicemail"] == voicemails


def test_direct_calls_through_the_sdk_end_as_the_provider_ended_them(
    stack: Stack, committed: Session
) -> None:
    """``POST /call`` with Vapi's SDK: each call is paced, placed once, and ends as it did there."""
    org = create_org(committed, name=f"direct-{uuid.uuid4()}", concurrency_limit=3)
    committed.commit()
    vapi = Vapi(token=org.api_key, base_url=stack.api_url)
    numbers = customer_numbers(8, start=9000)
    batch = vapi.calls.create(
        assistant_id="assistant-direct",
        phone_number_id="caller-direct",
        customers=[CreateCustomerDto(number=number) for number in numbers],
        name="direct batch",
    )
    assert isinstance(batch, CallBatchResponse)
    ids = [call.id for call in batch.results]
    assert len(ids) == len(numbers)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        calls = [vapi.calls.get(call_id) for call_id in ids]
        if all(call.status == "ended" for call in calls):
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"direct calls did not end: {[c.status for c in calls]}\n{stack.logs()}")
    truth = {
        call["metadata"]["orchestratorCallId"]: call
        for call in (
            {**c, "metadata": c["assistantOverrides"]["metadata"]}
            for c in httpx.get(
                f"{stack.simulator_url}/call",
                params={"limit": 1000},
                headers={"Authorization": "Bearer e2e"},
            ).json()
        )
        if call["metadata"]["orchestratorCampaignId"] is None
        and call["metadata"]["orchestratorOrgId"] == str(org.org_id)
    }
    assert sorted(truth) == sorted(ids), "every direct call placed exactly once"
    for call in calls:
        assert call.ended_reason == truth[call.id]["endedReason"]
        assert call.customer is not None
        assert truth[call.id]["customer"]["number"] == call.customer.number
    stats = httpx.get(f"{stack.simulator_url}/simulator/stats").json()
    assert stats["maxInFlightByPhoneNumber"]["caller-direct"] <= 3
    listed = vapi.calls.list(phone_number_id="caller-direct", limit=100)
    assert sorted(call.id for call in listed) == sorted(ids)
