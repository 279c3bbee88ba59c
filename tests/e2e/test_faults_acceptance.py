"""A 1,000-contact campaign with every network fault switched on, checked against ground truth.

The stack runs as ``orchestrator up`` does, with HMAC-signed webhooks checked by the API.

The simulator duplicates, reorders, delays and drops webhooks, answers creates with 429s and
5xx errors (some after creating the call) and holds some create answers past the provider
timeout (always after creating the call). Whatever it did, the campaign must end with every
contact's outcome and every call's ``endedReason`` as the simulator really played them,
counters equal to a recount without any correction, and nobody dialed more often than the
retry plan allows.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from orchestrator.calls.ended_reasons import completes_contact
from orchestrator.calls.retry_plan import (
    TRANSIENT_RETRY_CAP,
    RetryPlanIn,
    decide_retry,
    is_transient,
)
from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Call, Campaign, Contact
from orchestrator.orgs.service import create_org
from orchestrator.runner import StackOptions
from orchestrator.simulator.faults import FAULT_COUNTERS
from tests.factories import customer_numbers
from tests.support.ground_truth import all_simulator_calls, simulator_stats, wait_for_end
from tests.support.stack import Stack, e2e_stack

pytestmark = [pytest.mark.e2e, pytest.mark.acceptance]

CONTACTS = 1000
CALLERS = ("fault-a", "fault-b")
PROVIDER_TIMEOUT_SECONDS = 2.0
FAULTS = (
    "dup=0.2,reorder=0.2,drop=0.08,drop_call=0.1,delay=0.3:0.5,"
    "create_5xx=0.05,create_timeout=0.05,create_429=0.05,timeout_hold=4"
)
MAX_ATTEMPTS = 2
RETRY_PLAN = {
    "maxAttempts": MAX_ATTEMPTS,
    "retryOn": ["no-answer", "busy"],
    "delaySeconds": 1,
}
# The settings every process of the stack runs with: creates time out quickly, and calls whose
# webhooks were lost are looked up soon. Reconciliation never runs, so that the counters seen
# at the end are what ingestion wrote, not a correction of it.
STACK_ENV = {
    "ORCH_PROVIDER_TIMEOUT_SECONDS": str(PROVIDER_TIMEOUT_SECONDS),
    "ORCH_CALL_SILENCE_SECONDS": "5",
    "ORCH_RECOVERY_INTERVAL_SECONDS": "2",
    "ORCH_RECONCILE_INTERVAL_SECONDS": "86400",
    # Every webhook is signed by the simulator and checked by the API (Vapi's HMAC plan).
    "ORCH_WEBHOOK_AUTH_MODE": "hmac",
}


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        workers=2,
        concurrency=6,
        profile="fast",
        seed=404,
        simulator_concurrency_limit=1000,
        faults=FAULTS,
        webhook_hmac_secret=f"acceptance-{uuid.uuid4()}",
    )
    with e2e_stack(options, environment=STACK_ENV) as stack:
        yield stack


def _start_campaign(client: httpx.Client) -> str:
    for caller in CALLERS:
        paced = client.put(
            f"/phone-number/{caller}/pacing", json={"callsPerSecond": 20, "maxConcurrency": None}
        )
        assert paced.status_code == 200, paced.text
    numbers = iter(customer_numbers(CONTACTS, start=40_000))
    per_caller = CONTACTS // len(CALLERS)
    body = {
        "name": "faults acceptance",
        "assistantId": "assistant-faults",
        "maxConcurrency": 60,
        "dialPlan": [
            {
                "phoneNumberId": caller,
                "customers": [{"number": next(numbers)} for _ in range(per_caller)],
            }
            for caller in CALLERS
        ],
        "retryPlan": RETRY_PLAN,
    }
    response = client.post("/campaign", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _metric_total(text: str, name: str, **labels: str) -> float:
    """The sum of a counter's samples in Prometheus text, over samples with these labels."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == name
        for sample in family.samples
        if sample.name == f"{name}_total"
        and all(sample.labels.get(key) == value for key, value in labels.items())
    )


# What the run must add to each: nothing to drift or refusals, something to every recovery path.
WATCHED_METRICS: dict[str, tuple[str, dict[str, str]]] = {
    "drift": ("orchestrator_counter_drift", {}),
    "refused": ("orchestrator_webhooks_rejected", {}),
    "duplicates": ("orchestrator_webhook_events", {"outcome": "duplicate"}),
    "creates unknown": ("orchestrator_ambiguous_creates", {"resolution": "pending"}),
    "creates found": ("orchestrator_ambiguous_creates", {"resolution": "found"}),
    "creates not made": ("orchestrator_ambiguous_creates", {"resolution": "not-created"}),
    "correlated": ("orchestrator_calls_correlated", {}),
    "recovered": ("orchestrator_calls_recovered", {}),
}


def _watched_metrics(client: httpx.Client) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        key: _metric_total(response.text, name, **labels)
        for key, (name, labels) in WATCHED_METRICS.items()
    }


def _check_attempts_follow_the_plan(number: str, reasons: list[str]) -> None:
    """Each attempt but the last was one the plan retries; the last one it does not."""
    plan = RetryPlanIn.model_validate(RETRY_PLAN)
    transient_before = 0
    for index, reason in enumerate(reasons):
        decision = decide_retry(
            plan,
            ended_reason=reason,
            attempts_made=index + 1,
            transient_failures=transient_before,
        )
        last = index == len(reasons) - 1
        assert decision.retry is not last, (number, reasons, decision)
        transient_before += is_transient(reason)


def test_a_thousand_contacts_with_every_fault_match_the_ground_truth(
    stack: Stack, committed: Session
) -> None:
    org = create_org(committed, name=f"faults-{uuid.uuid4()}", concurrency_limit=100)
    committed.commit()
    headers = {"Authorization": f"Bearer {org.api_key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as client:
        unsigned = httpx.post(
            f"{stack.api_url}/webhooks/vapi",
            json={"message": {"type": "status-update", "status": "ringing", "call": {"id": "x"}}},
            headers={"x-timestamp": str(int(time.time())), "x-signature": "0" * 64},
        )
        assert unsigned.status_code == 401, "the API must be checking signatures"
        before = _watched_metrics(client)
        started = time.monotonic()
        campaign_id = _start_campaign(client)
        campaign = wait_for_end(client, campaign_id, stack, timeout=600)
        took = time.monotonic() - started
        after = _watched_metrics(client)
    seen = {key: after[key] - before[key] for key in WATCHED_METRICS}
    assert campaign["endedReason"] == "campaign.ended.success"

    stats = simulator_stats(stack)
    truth = all_simulator_calls(stack, campaign_id=campaign_id)
    shown = {key: value for key, value in stats.items() if key != "numbersDialedMoreThanOnce"}
    print(f"faults acceptance: {len(truth)} calls in {took:.0f} s, simulator stats {shown}")
    first, last = truth[0]["createdAt"], truth[-1]["createdAt"]
    print(f"faults acceptance: created from {first} to {last}, {max(c['endedAt'] for c in truth)}")
    # Every fault really happened during the run.
    assert all(stats["faults"][name] > 0 for name in FAULT_COUNTERS), stats["faults"]
    assert {call["status"] for call in truth} == {"ended"}

    _check_calls_match(committed, campaign_id=uuid.UUID(campaign_id), truth=truth)
    _check_contacts_match(committed, campaign_id=uuid.UUID(campaign_id), truth=truth)

    stored = committed.get(Campaign, uuid.UUID(campaign_id))
    assert stored is not None
    assert counter_drift(committed, campaign=stored) == {}
    assert campaign["callsCounterEnded"] == len(truth)
    assert campaign["contactCounters"]["pending"] == 0
    print(f"faults acceptance: metrics during the run {seen}")
    assert seen["drift"] == 0
    assert seen["refused"] == 0, "every signed webhook, copies and late ones too, is accepted"
    # The faults reached the orchestrator, and it took every recovery path.
    assert all(seen[key] > 0 for key in WATCHED_METRICS if key not in ("drift", "refused")), seen


def _check_calls_match(
    session: Session, *, campaign_id: uuid.UUID, truth: list[dict[str, Any]]
) -> None:
    ours = session.execute(
        select(Call.provider_call_id, Call.status, Call.ended_reason, Call.customer).where(
            Call.campaign_id == campaign_id
        )
    ).all()
    by_id = {call["id"]: call for call in truth}
    # One row per call the provider really created, and no call we lost track of.
    assert sorted(row.provider_call_id or "" for row in ours) == sorted(by_id)
    for provider_id, status, ended_reason, customer in ours:
        real = by_id[provider_id]
        assert status == "ended", provider_id
        assert ended_reason == real["endedReason"], provider_id
        assert customer["number"] == real["customer"]["number"], provider_id


def _check_contacts_match(
    session: Session, *, campaign_id: uuid.UUID, truth: list[dict[str, Any]]
) -> None:
    reasons_by_number: dict[str, list[str]] = defaultdict(list)
    for call in truth:  # oldest first
        reasons_by_number[call["customer"]["number"]].append(call["endedReason"])
    contacts = session.execute(
        select(Contact.number, Contact.status, Contact.attempts).where(
            Contact.campaign_id == campaign_id
        )
    ).all()
    assert len(contacts) == CONTACTS
    assert {number for number, _, _ in contacts} == set(reasons_by_number)
    for number, status, attempts in contacts:
        assert number is not None
        reasons = reasons_by_number[number]
        assert attempts == len(reasons), (number, reasons)
        assert len(reasons) <= MAX_ATTEMPTS + TRANSIENT_RETRY_CAP
        _check_attempts_follow_the_plan(number, reasons)
        expected = "completed" if completes_contact(reasons[-1]) else "failed"
        assert status == expected, (number, reasons)
    dials = Counter(len(reasons) for reasons in reasons_by_number.values())
    print(f"faults acceptance: contacts by number of dials {dict(sorted(dials.items()))}")
