"""The compliance gate end to end, judged on the simulator's ground truth.

* A 1,000-contact campaign, 100 of its numbers on the suppression list from the start and 50
  more added while it runs (half of them numbers whose calls are claimed, waiting for their
  rate slot): the simulator never receives a call to a number after its entry was committed;
  those contacts end ``skipped`` (``skipReason: "suppressed"``, ``contact.skipped``) unless
  their call had already left; the counters equal a recount.
* Two campaigns and a batch of direct calls sharing 300 numbers, with a cap of 1 attempt per
  24 hours, run by 2 worker processes: each number reaches the simulator at most once.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Call, CallStatus, Campaign, Contact, OutboxEvent, Suppression
from orchestrator.models.enums import TERMINAL_CALL_STATUSES
from orchestrator.orgs.service import create_org
from orchestrator.reasons import FREQUENCY_CAP, SUPPRESSED
from orchestrator.runner import StackOptions
from orchestrator.suppression.gate_lock import wait_for_sends
from tests.factories import customer_numbers
from tests.support.ground_truth import all_simulator_calls, wait_for_end
from tests.support.stack import Stack, e2e_stack
from tests.support.user_server import running_user_server

pytestmark = [pytest.mark.e2e, pytest.mark.acceptance]

CONTACTS = 1000
CALLS_PER_SECOND = 40
SHARED_NUMBERS = 300


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        workers=2,
        concurrency=4,
        profile="fast",
        seed=16,
        simulator_concurrency_limit=500,
    )
    with e2e_stack(options) as stack:
        yield stack


def _client(stack: Stack, api_key: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {api_key}"}
    return httpx.Client(base_url=stack.api_url, headers=headers, timeout=30)


def _pace(client: httpx.Client, caller: str, calls_per_second: float) -> None:
    paced = client.put(
        f"/phone-number/{caller}/pacing",
        json={"callsPerSecond": calls_per_second, "maxConcurrency": None},
    )
    assert paced.status_code == 200, paced.text


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _suppress(session: Session, org_id: uuid.UUID, numbers: list[str]) -> datetime:
    """Entries added as every writer of the list must: after ``wait_for_sends``, in the
    transaction that writes them. When the commit was done."""
    wait_for_sends(session, org_id=org_id)
    session.add_all(Suppression(org_id=org_id, number=n, reason="opt-out") for n in numbers)
    session.commit()
    return datetime.now(UTC)


def _created_at(call: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(call["createdAt"].replace("Z", "+00:00"))


def _numbers_waiting_to_be_sent(session: Session, campaign_id: str, count: int) -> list[str]:
    """Numbers of the campaign's calls claimed and not sent yet (waiting for a rate slot)."""
    stmt = (
        select(Call.customer["number"].astext)
        .where(Call.campaign_id == uuid.UUID(campaign_id), Call.status == CallStatus.CLAIMED)
        .limit(count)
    )
    return [number for number in session.scalars(stmt) if number is not None]


def _numbers_still_pending(
    session: Session, campaign_id: str, count: int, exclude: set[str]
) -> list[str]:
    stmt = (
        select(Contact.number)
        .where(Contact.campaign_id == uuid.UUID(campaign_id), Contact.status == "pending")
        .order_by(Contact.position.desc())
    )
    found = [n for n in session.scalars(stmt) if n is not None and n not in exclude]
    return found[:count]


def _wait_for_calls(stack: Stack, campaign_id: str, at_least: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(all_simulator_calls(stack, campaign_id=campaign_id)) >= at_least:
            return
        time.sleep(0.5)
    pytest.fail(f"fewer than {at_least} calls were placed\n{stack.logs()}")


def _contacts(session: Session, campaign_id: str) -> dict[str, Contact]:
    stmt = select(Contact).where(Contact.campaign_id == uuid.UUID(campaign_id))
    found = session.scalars(stmt.execution_options(populate_existing=True))
    return {str(contact.number): contact for contact in found}


def _check_counters(session: Session, campaign: dict[str, Any]) -> None:
    stored = session.get(Campaign, uuid.UUID(campaign["id"]), populate_existing=True)
    assert stored is not None
    assert counter_drift(session, campaign=stored) == {}
    counted = Counter(
        str(status)
        for status in session.scalars(
            select(Contact.status).where(Contact.campaign_id == stored.id)
        )
    )
    counters: dict[str, int] = dict(campaign["contactCounters"])
    assert counters.pop("total") == sum(counted.values())
    wire: dict[str, str] = {"predialFailed": "predial-failed"}
    assert counters == {name: counted[wire.get(name, name)] for name in counters}


def _skipped_events(session: Session, campaign_id: str) -> set[str]:
    stmt = select(OutboxEvent.data["contactId"].astext).where(
        OutboxEvent.campaign_id == uuid.UUID(campaign_id),
        OutboxEvent.event_type == "contact.skipped",
    )
    return {contact_id for contact_id in session.scalars(stmt) if contact_id}


def test_no_call_reaches_a_number_after_its_entry_was_committed(
    stack: Stack, committed: Session
) -> None:
    org = create_org(committed, name=f"gate-suppression-{uuid.uuid4()}", concurrency_limit=100)
    committed.commit()
    numbers = customer_numbers(CONTACTS, start=60_000)
    from_the_start = numbers[5::10]
    _suppress(committed, org.org_id, from_the_start)
    added: dict[str, datetime] = {}
    started = time.monotonic()
    with running_user_server() as receiver, _client(stack, org.api_key) as client:
        _pace(client, "gate-a", CALLS_PER_SECOND)
        campaign_id = _post(
            client,
            "/campaign",
            {
                "name": "suppression acceptance",
                "assistantId": "assistant-gate",
                "phoneNumberId": "gate-a",
                "maxConcurrency": 60,
                "customers": [{"number": n} for n in numbers],
                "server": {"url": receiver.url},
            },
        )["id"]
        for after_calls in (250, 500):
            _wait_for_calls(stack, campaign_id, after_calls)
            claimed = _numbers_waiting_to_be_sent(committed, campaign_id, 12)
            pending = _numbers_still_pending(
                committed, campaign_id, 25 - len(claimed), set(from_the_start) | set(added)
            )
            batch = [n for n in claimed + pending if n not in from_the_start]
            committed_at = _suppress(committed, org.org_id, batch)
            added.update(dict.fromkeys(batch, committed_at))
        campaign = wait_for_end(client, campaign_id, stack, timeout=300)
        took = time.monotonic() - started
        skipped = client.get(
            f"/v2/campaign/{campaign_id}/contacts",
            params={"status": "contact.skipped", "limit": 1000},
        ).json()["results"]

    truth = all_simulator_calls(stack, campaign_id=campaign_id)
    received = Counter(call["customer"]["number"] for call in truth)
    assert set(received.values()) == {1}
    assert not received.keys() & set(from_the_start), "no call to a number suppressed at start"
    late = [
        (call["customer"]["number"], call["createdAt"])
        for call in truth
        if call["customer"]["number"] in added
        and _created_at(call) >= added[call["customer"]["number"]]
    ]
    assert late == [], "a call reached a number after its entry was committed"

    contacts = _contacts(committed, campaign_id)
    suppressed = {n for n, c in contacts.items() if c.status_reason == SUPPRESSED}
    for number in [*from_the_start, *added]:
        contact = contacts[number]
        if number in received:  # its call had left before the entry was committed
            assert contact.status in ("completed", "failed"), number
        else:
            assert (contact.status, contact.status_reason) == ("skipped", SUPPRESSED), number
    assert suppressed == set(from_the_start) | (set(added) - set(received))
    assert {c["number"] for c in skipped} == suppressed
    assert {c["skipReason"] for c in skipped} == {"suppressed"}
    assert _skipped_events(committed, campaign_id) == {str(contacts[n].id) for n in suppressed}
    refused_at_send = committed.scalar(
        select(func.count()).where(
            Call.campaign_id == uuid.UUID(campaign_id), Call.ended_reason == SUPPRESSED
        )
    )
    print(
        f"gate suppression acceptance: {CONTACTS} contacts, {len(truth)} calls in {took:.1f} s; "
        f"{len(from_the_start)} suppressed from the start, {len(added)} added while running "
        f"({len(set(added) & received.keys())} had already been called); "
        f"{len(suppressed)} skipped, {refused_at_send} of them at their send"
    )
    assert len(truth) == CONTACTS - len(suppressed)
    assert refused_at_send and refused_at_send > 0, "some entries stopped calls already claimed"
    _check_counters(committed, campaign)


def _direct_calls_settled(session: Session, org_id: uuid.UUID) -> list[Call]:
    deadline = time.monotonic() + 180
    while True:
        stmt = select(Call).where(Call.org_id == org_id, Call.campaign_id.is_(None))
        calls = list(session.scalars(stmt.execution_options(populate_existing=True)))
        session.rollback()
        if all(call.status in TERMINAL_CALL_STATUSES for call in calls):
            return calls
        if time.monotonic() > deadline:
            pytest.fail(f"direct calls still waiting: {Counter(c.status for c in calls)}")
        time.sleep(1)


def test_a_cap_of_one_a_day_lets_each_number_be_called_once_whoever_calls_it(
    stack: Stack, committed: Session
) -> None:
    org = create_org(committed, name=f"gate-caps-{uuid.uuid4()}", concurrency_limit=100)
    committed.commit()
    numbers = customer_numbers(SHARED_NUMBERS, start=65_000)
    latest = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    window = {"earliestAt": datetime.now(UTC).isoformat(), "latestAt": latest}
    started = time.monotonic()
    with _client(stack, org.api_key) as client:
        policy = {"frequencyCaps": [{"maxAttempts": 1, "periodSeconds": 86_400}]}
        assert client.put("/policy", json=policy).status_code == 200
        for caller in ("caps-a", "caps-b", "caps-direct"):
            _pace(client, caller, 30)
        orders = {"caps-a": numbers, "caps-b": numbers[::-1]}
        campaign_ids = [
            _post(
                client,
                "/campaign",
                {
                    "name": f"shared numbers {caller}",
                    "assistantId": "assistant-gate",
                    "phoneNumberId": caller,
                    "maxConcurrency": 40,
                    "customers": [{"number": n} for n in order],
                    "schedulePlan": window,
                },
            )["id"]
            for caller, order in orders.items()
        ]
        middle_out = numbers[SHARED_NUMBERS // 2 :] + numbers[: SHARED_NUMBERS // 2]
        _post(
            client,
            "/call",
            {
                "assistantId": "assistant-gate",
                "phoneNumberId": "caps-direct",
                "customers": [{"number": n} for n in middle_out],
                "schedulePlan": window,
            },
        )
        campaigns = [wait_for_end(client, c, stack, timeout=180) for c in campaign_ids]
    direct = _direct_calls_settled(committed, org.org_id)
    took = time.monotonic() - started

    truth = [
        call
        for call in all_simulator_calls(stack)
        if call["assistantOverrides"]["metadata"].get("orchestratorOrgId") == str(org.org_id)
    ]
    received = Counter(call["customer"]["number"] for call in truth)
    by_caller = Counter(call["phoneNumberId"] for call in truth)
    held_at_send = committed.scalar(
        select(func.count()).where(
            Call.org_id == org.org_id,
            Call.campaign_id.is_not(None),
            Call.ended_reason == FREQUENCY_CAP,
        )
    )
    print(
        f"gate caps acceptance: 3 x {SHARED_NUMBERS} attempts wanted, {len(truth)} calls "
        f"reached the simulator in {took:.1f} s, by caller {dict(by_caller)}; "
        f"{held_at_send} campaign calls held back at their send"
    )
    assert max(received.values()) == 1, [n for n, k in received.items() if k > 1]
    assert set(received) == set(numbers), "each number was called once by someone"
    capped = [c for c in direct if c.ended_reason == FREQUENCY_CAP]
    assert len(capped) == SHARED_NUMBERS - by_caller["caps-direct"]
    assert all(c.status == CallStatus.FAILED and c.provider_call_id is None for c in capped)
    for campaign in campaigns:
        contacts = _contacts(committed, campaign["id"])
        not_called = [c for c in contacts.values() if c.status == "skipped"]
        assert all(c.status_reason == FREQUENCY_CAP for c in not_called)
        assert len(not_called) == SHARED_NUMBERS - by_caller[campaign["phoneNumberId"]]
        _check_counters(committed, campaign)
