"""Pre-dial checks end to end: a 500-contact v2 campaign whose server answers eligible, not
eligible, 500, garbage and too late, by the contact's number; and a campaign whose server
never answers in time beside another sharing its org and caller number.

Judged on the simulator's ground truth: it never receives a call for a contact that was not
cleared, each contact's status is what its verdict says, the counters equal a recount, the
checks of a campaign never exceed its ``maxConcurrency`` at once, and a dead server slows
only its own campaign.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Campaign, Contact
from orchestrator.orgs.service import create_org
from orchestrator.reasons import PREDIAL_ERROR, PREDIAL_NOT_ELIGIBLE
from orchestrator.runner import StackOptions
from tests.factories import customer_numbers
from tests.support.ground_truth import (
    all_simulator_calls,
    created_times,
    max_in_any_second,
    wait_for_end,
)
from tests.support.stack import Stack, e2e_stack
from tests.support.user_server import Received, Reply, running_user_server

pytestmark = [pytest.mark.e2e, pytest.mark.acceptance]

CONTACTS = 500
MAX_CONCURRENCY = 20
CALLS_PER_SECOND = 25
# Long enough that an answer in time stays in time on a loaded machine.
TIMEOUT_SECONDS = 2
# By the last digit of the customer's number: what the server answers.
ANSWERS = {
    **dict.fromkeys("012345", "eligible"),
    "6": "not-eligible",
    "7": "500",
    "8": "garbage",
    "9": "too-late",
}
# The server's own time to answer in time: long enough for checks to overlap.
THINK_SECONDS = 0.05


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        workers=2,
        concurrency=4,
        outbound_concurrency=32,
        profile="fast",
        seed=15,
        simulator_concurrency_limit=500,
    )
    with e2e_stack(options) as stack:
        yield stack


@dataclass
class Receiver:
    """Answers by the contact's number and records, per campaign, each check's time on the
    wire (a late one ends for the sender at its timeout)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    spans: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    asked: Counter[str] = field(default_factory=Counter)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)

    def contact_events(self, campaign_id: str) -> dict[str, list[dict[str, Any]]]:
        """Each contact's events (deduplicated by event id), in the order of their sequence."""
        with self.lock:
            ordered = sorted(self.events.values(), key=lambda message: message["sequence"])
        by_contact: dict[str, list[dict[str, Any]]] = {}
        for message in ordered:
            if message["campaignId"] == campaign_id and "contactId" in message["data"]:
                by_contact.setdefault(message["data"]["contactId"], []).append(message)
        return by_contact

    def ended(self, campaign_id: str) -> bool:
        with self.lock:
            return any(
                m["campaignId"] == campaign_id and m["eventType"] == "campaign.ended"
                for m in self.events.values()
            )

    def answer(self, request: Received) -> Reply:
        message = request.message
        if message["type"] == "campaign.event":
            # The same server gets the campaign's events (Vapi's one server per campaign).
            with self.lock:
                self.events[request.headers["x-event-id"]] = message
            return Reply()
        kind = ANSWERS[message["contact"]["number"][-1]]
        # Counted on arrival: a late answer's handler may still sleep when the campaign ends.
        with self.lock:
            self.asked[message["contact"]["number"]] += 1
        started = time.monotonic()
        time.sleep(TIMEOUT_SECONDS + 0.5 if kind == "too-late" else THINK_SECONDS)
        ended = started + TIMEOUT_SECONDS if kind == "too-late" else time.monotonic()
        with self.lock:
            self.spans.setdefault(message["campaignId"], []).append((started, ended))
        if kind == "eligible":
            return Reply.json({"eligible": True})
        if kind == "not-eligible":
            return Reply.json({"eligible": False})
        if kind == "500":
            return Reply.json({"eligible": True}, status=500)
        if kind == "garbage":
            return Reply(body=b"<html><body>eligible: true</body></html>")
        return Reply.json({"eligible": True})

    def most_at_once(self, campaign_id: str) -> int:
        events = sorted(
            [(start, 1) for start, _ in self.spans.get(campaign_id, [])]
            + [(end, -1) for _, end in self.spans.get(campaign_id, [])],
            key=lambda event: (event[0], event[1]),
        )
        most = current = 0
        for _, step in events:
            current += step
            most = max(most, current)
        return most


def _pace(client: httpx.Client, caller: str, calls_per_second: float) -> None:
    paced = client.put(
        f"/phone-number/{caller}/pacing",
        json={"callsPerSecond": calls_per_second, "maxConcurrency": None},
    )
    assert paced.status_code == 200, paced.text


def _post(client: httpx.Client, body: dict[str, Any], *, path: str = "/campaign") -> str:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _contacts(session: Session, campaign_id: str) -> list[Contact]:
    stmt = select(Contact).where(Contact.campaign_id == uuid.UUID(campaign_id))
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def _check_counters(session: Session, campaign: dict[str, Any], contacts: list[Contact]) -> None:
    stored = session.get(Campaign, uuid.UUID(campaign["id"]), populate_existing=True)
    assert stored is not None
    assert counter_drift(session, campaign=stored) == {}
    by_status = Counter(str(contact.status) for contact in contacts)
    wire: dict[str, str] = {"predialFailed": "predial-failed"}
    counters: dict[str, int] = dict(campaign["contactCounters"])
    assert counters.pop("total") == len(contacts)
    recount = {name: by_status[wire.get(name, name)] for name in counters}
    assert counters == recount
    assert recount["pending"] == recount["dispatched"] == 0


def test_five_hundred_contacts_are_dialed_only_when_their_server_said_eligible(
    stack: Stack, committed: Session
) -> None:
    org = create_org(committed, name=f"predial-{uuid.uuid4()}", concurrency_limit=100)
    committed.commit()
    receiver = Receiver()
    numbers = customer_numbers(CONTACTS, start=70_000)
    with (
        running_user_server(receiver.answer) as server,
        httpx.Client(
            base_url=stack.api_url, headers={"Authorization": f"Bearer {org.api_key}"}, timeout=30
        ) as client,
    ):
        _pace(client, "predial-a", CALLS_PER_SECOND)
        started = time.monotonic()
        campaign_id = _post(
            client,
            {
                "name": "pre-dial acceptance",
                "assistantId": "assistant-predial",
                "phoneNumberId": "predial-a",
                "maxConcurrency": MAX_CONCURRENCY,
                "customers": [{"number": number} for number in numbers],
                "server": {"url": server.url, "timeoutSeconds": TIMEOUT_SECONDS},
                "predialPlan": {"enabled": True},
            },
            path="/v2/campaign",
        )
        wait_for_end(client, campaign_id, stack, timeout=300)
        took = time.monotonic() - started
        campaign = client.get(f"/v2/campaign/{campaign_id}").json()
        skipped = client.get(
            f"/v2/campaign/{campaign_id}/contacts",
            params={"status": "contact.skipped", "limit": 1000},
        ).json()["results"]

    eligible = {number for number in numbers if ANSWERS[number[-1]] == "eligible"}
    truth = all_simulator_calls(stack, campaign_id=campaign_id)
    dialed = Counter(call["customer"]["number"] for call in truth)
    assert set(dialed) == eligible, "called exactly the contacts cleared, nobody else"
    assert set(dialed.values()) == {1}
    assert set(receiver.asked) == set(numbers) and set(receiver.asked.values()) == {1}
    most = receiver.most_at_once(campaign_id)
    print(
        f"predial acceptance: {CONTACTS} contacts, {len(truth)} calls in {took:.1f} s; "
        f"at most {most} checks at once (maxConcurrency {MAX_CONCURRENCY})"
    )
    assert 1 < most <= MAX_CONCURRENCY

    contacts = _contacts(committed, campaign_id)
    for contact in contacts:
        kind = ANSWERS[str(contact.number)[-1]]
        verdict = contact.predial_verdict or {}
        if kind == "eligible":
            assert contact.status in ("completed", "failed"), contact.number
            assert verdict["verdict"] == "eligible"
        elif kind == "not-eligible":
            assert (contact.status, contact.status_reason) == ("skipped", PREDIAL_NOT_ELIGIBLE)
            assert verdict["verdict"] == "not-eligible"
        else:
            assert (contact.status, contact.status_reason) == ("predial-failed", PREDIAL_ERROR)
            assert verdict["verdict"] == "error" and verdict["error"], contact.number
        assert verdict["attempt"] == 1
    _check_counters(committed, campaign, contacts)
    not_eligible = {n for n in numbers if ANSWERS[n[-1]] == "not-eligible"}
    assert {c["number"] for c in skipped} == not_eligible
    assert {c.get("skipReason") for c in skipped} == {"not-eligible"}
    _check_events(receiver, campaign_id, contacts)


def _check_events(receiver: Receiver, campaign_id: str, contacts: list[Contact]) -> None:
    """The server heard how each contact ended, once: as its verdict (or its call) said."""
    deadline = time.monotonic() + 60
    while not receiver.ended(campaign_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert receiver.ended(campaign_id), "campaign.ended was delivered"
    heard = receiver.contact_events(campaign_id)
    terminal = {"completed", "failed", "skipped", "predial-failed"}
    for contact in contacts:
        events = [m["eventType"] for m in heard.get(str(contact.id), [])]
        ends = [e for e in events if e.removeprefix("contact.") in terminal]
        assert ends == [f"contact.{contact.status}"], (contact.number, events)
        dispatched = events.count("contact.dispatched")
        assert dispatched == (1 if contact.status in ("completed", "failed") else 0), events
        if contact.status == "predial-failed":
            (failed,) = [m for m in heard[str(contact.id)] if m["eventType"] == ends[0]]
            assert failed["data"]["error"] == (contact.predial_verdict or {})["error"]


def test_a_dead_server_slows_only_its_own_campaign(stack: Stack, committed: Session) -> None:
    """Two campaigns of one org on one caller number, the org capped at what the first needs:
    the second's checks, each waiting out its timeout, take none of it."""
    org = create_org(committed, name=f"predial-dead-{uuid.uuid4()}", concurrency_limit=8)
    committed.commit()
    rate = 10
    waited: list[float] = []

    def never_in_time(_: Received) -> Reply:
        waited.append(time.monotonic())
        return Reply.json({"eligible": True}, delay=TIMEOUT_SECONDS + 1.0)

    with (
        running_user_server(never_in_time) as dead,
        httpx.Client(
            base_url=stack.api_url, headers={"Authorization": f"Bearer {org.api_key}"}, timeout=30
        ) as client,
    ):
        _pace(client, "predial-shared", rate)
        body = {"assistantId": "assistant-predial", "phoneNumberId": "predial-shared"}
        slow_id = _post(
            client,
            {
                **body,
                "name": "dead server",
                "maxConcurrency": 8,
                "customers": [{"number": n} for n in customer_numbers(80, start=80_000)],
                "server": {"url": dead.url, "timeoutSeconds": TIMEOUT_SECONDS},
                "predialPlan": {"enabled": True},
            },
        )
        fast_numbers = customer_numbers(60, start=81_000)
        fast_id = _post(
            client,
            {
                **body,
                "name": "beside it",
                "maxConcurrency": 8,
                "customers": [{"number": n} for n in fast_numbers],
            },
        )
        fast = wait_for_end(client, fast_id, stack, timeout=120)
        checks_while_dialing = len(waited)
        slow = wait_for_end(client, slow_id, stack, timeout=120)

    created = sorted(created_times(stack, fast_id)["predial-shared"])
    span = created[-1] - created[0]
    print(
        f"predial dead server: the campaign beside it placed {len(created)} calls in "
        f"{span:.1f} s at {rate}/s while {checks_while_dialing} checks waited out their timeout"
    )
    assert len(created) == len(fast_numbers)
    assert max_in_any_second(created) <= rate
    assert span <= len(fast_numbers) / rate + 3.0, "dialed at its number's pace"
    assert checks_while_dialing >= 8, "the dead server's checks ran all along"
    assert all_simulator_calls(stack, campaign_id=slow_id) == []
    assert slow["contactCounters"]["predialFailed"] == 80
    _check_counters(committed, fast, _contacts(committed, fast_id))
    _check_counters(committed, slow, _contacts(committed, slow_id))
