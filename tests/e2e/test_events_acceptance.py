"""Campaign events out, end to end: a 1,000-contact campaign whose receiver drops every
connection for a while, then fails 30% of deliveries with 500s.

Every event arrives at least once (deduplicated by event id): exactly one terminal
``contact.*`` event per contact and one ``campaign.ended``, each signed with the org's
secret, sequence numbers unique per campaign. Pacing, while the receiver is down: no caller
number over its rate in any second, and each number as fast as the number of a campaign
without a server, paced alike and running at the same time.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import threading
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

from orchestrator.events.states import TERMINAL_CONTACT_EVENTS
from orchestrator.models import Contact, OutboxEvent
from orchestrator.orgs.service import create_org
from orchestrator.runner import StackOptions
from tests.factories import customer_numbers
from tests.support.ground_truth import created_times, max_in_any_second
from tests.support.stack import Stack, e2e_stack
from tests.support.user_server import Received, Reply, running_user_server

pytestmark = [pytest.mark.e2e, pytest.mark.acceptance]

CONTACTS = 1000
CALLERS = ("events-a", "events-b")
CALLS_PER_SECOND = 10
CONTROL_CALLER = "events-control"
CONTROL_CONTACTS = 300
DOWN_SECONDS = 20.0
FAILING_SHARE = 0.3
# Short retries, so the backlog of the outage clears in seconds, not minutes.
RETRY_ENVIRONMENT = {
    "ORCH_EVENTS_RETRY_BASE_SECONDS": "0.5",
    "ORCH_EVENTS_RETRY_MAX_DELAY_SECONDS": "3",
}


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        workers=2,
        concurrency=4,
        profile="fast",
        seed=15,
        simulator_concurrency_limit=300,
    )
    with e2e_stack(options, environment=RETRY_ENVIRONMENT) as stack:
        yield stack


class FlakyReceiver:
    """Drops every connection until ``up_at``; then answers 500 to 30% of deliveries."""

    def __init__(self) -> None:
        self.up_at = float("inf")
        self._random = random.Random(15)
        self._lock = threading.Lock()

    def answer(self, request: Received) -> Reply:
        if request.at < self.up_at:
            return Reply(drop=True)
        with self._lock:
            failing = self._random.random() < FAILING_SHARE
        return Reply(status=500) if failing else Reply()


def _post_campaign(
    client: httpx.Client,
    *,
    name: str,
    callers: tuple[str, ...],
    contacts: int,
    first_number: int,
    server: dict[str, Any] | None = None,
) -> str:
    for caller in callers:
        paced = client.put(
            f"/phone-number/{caller}/pacing",
            json={"callsPerSecond": CALLS_PER_SECOND, "maxConcurrency": None},
        )
        assert paced.status_code == 200, paced.text
    numbers = iter(customer_numbers(contacts, start=first_number))
    per_caller = contacts // len(callers)
    body: dict[str, Any] = {
        "name": name,
        "assistantId": "assistant-acceptance",
        "maxConcurrency": 100,
        "dialPlan": [
            {
                "phoneNumberId": c,
                "customers": [{"number": next(numbers)} for _ in range(per_caller)],
            }
            for c in callers
        ],
    }
    if server is not None:
        body["server"] = server
    response = client.post("/campaign", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _outbox(committed: Session, campaign_id: str) -> list[OutboxEvent]:
    committed.expire_all()
    stmt = select(OutboxEvent).where(OutboxEvent.campaign_id == uuid.UUID(campaign_id))
    events = list(committed.scalars(stmt))
    committed.commit()
    return events


def _wait_for_every_delivery(
    committed: Session, campaign_id: str, stack: Stack, *, timeout: float
) -> list[OutboxEvent]:
    deadline = time.monotonic() + timeout
    events: list[OutboxEvent] = []
    while time.monotonic() < deadline:
        events = _outbox(committed, campaign_id)
        ended = any(e.event_type == "campaign.ended" for e in events)
        if ended and all(e.status == "delivered" for e in events):
            return events
        time.sleep(1)
    statuses = Counter(e.status for e in events)
    pytest.fail(f"events not all delivered: {statuses}\n{stack.logs()}")


def _rate(times: list[float]) -> float:
    return (len(times) - 1) / (max(times) - min(times)) if len(times) > 1 else 0.0


def _signed(secret: str, request: Received) -> bool:
    payload = request.headers["x-timestamp"].encode() + b"." + request.body
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers.get("x-signature", ""))


def _unique(received: list[Received]) -> dict[str, dict[str, Any]]:
    """Each event once, by its id (a retry carries the same id and the same content)."""
    by_id: dict[str, dict[str, Any]] = {}
    for request in received:
        message = request.message
        first = by_id.setdefault(message["eventId"], message)
        assert first == message, "a retry is the same message"
    return by_id


def test_every_event_arrives_and_a_receiver_down_leaves_pacing_alone(
    stack: Stack, committed: Session
) -> None:
    started = time.monotonic()
    org = create_org(committed, name=f"events-{uuid.uuid4()}", concurrency_limit=200)
    committed.commit()
    flaky = FlakyReceiver()
    headers = {"Authorization": f"Bearer {org.api_key}"}
    with (
        running_user_server(flaky.answer) as receiver,
        httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as client,
    ):
        campaign_id = _post_campaign(
            client,
            name="events acceptance",
            callers=CALLERS,
            contacts=CONTACTS,
            first_number=40_000,
            server={"url": receiver.url, "timeoutSeconds": 5},
        )
        # The same pacing, on a number of its own, in a campaign without a server: the
        # measure of what the machine gives while the receiver is down.
        control_id = _post_campaign(
            client,
            name="events acceptance control",
            callers=(CONTROL_CALLER,),
            contacts=CONTROL_CONTACTS,
            first_number=50_000,
        )
        posted_at = time.time()
        flaky.up_at = time.monotonic() + DOWN_SECONDS
        outbox = _wait_for_every_delivery(committed, campaign_id, stack, timeout=300)
        received = list(receiver.received)
    _check_deliveries(received, outbox, org.signing_secret, committed, campaign_id)
    _check_pacing(stack, campaign_id, control_id, down_until=posted_at + DOWN_SECONDS)
    print(
        f"events acceptance: {len(outbox)} events, {len(received)} deliveries, "
        f"{time.monotonic() - started:.1f} s"
    )


def _check_deliveries(
    received: list[Received],
    outbox: list[OutboxEvent],
    secret: str,
    committed: Session,
    campaign_id: str,
) -> None:
    assert all(_signed(secret, r) for r in received), "every delivery is signed"
    unique = _unique(received)
    assert set(unique) == {str(e.id) for e in outbox}, "every event arrived at least once"
    assert len(received) > len(unique), "the outage and the 500s made retries"
    sequences = [m["sequence"] for m in unique.values()]
    assert sorted(sequences) == list(range(1, len(unique) + 1)), "unique, without gaps"
    types = Counter(m["eventType"] for m in unique.values())
    assert types["campaign.ended"] == 1 and types["campaign.started"] == 1
    terminal = Counter(
        m["data"]["contactId"] for m in unique.values() if m["eventType"] in TERMINAL_CONTACT_EVENTS
    )
    contact_ids = committed.scalars(
        select(Contact.id).where(Contact.campaign_id == uuid.UUID(campaign_id))
    ).all()
    committed.commit()
    assert set(terminal) == {str(c) for c in contact_ids} and len(contact_ids) == CONTACTS
    assert set(terminal.values()) == {1}, "one terminal event per contact"
    ended = next(m for m in unique.values() if m["eventType"] == "campaign.ended")
    assert ended["sequence"] == len(unique), "the campaign's end comes last"


def _check_pacing(stack: Stack, campaign_id: str, control_id: str, *, down_until: float) -> None:
    """No number over its rate in any second, and while the receiver is down each number of
    the campaign keeps the pace of the control campaign's number (on a shared machine, an
    absolute figure would measure the machine's other load)."""
    times = created_times(stack, campaign_id)
    (control,) = created_times(stack, control_id).values()
    assert sum(len(t) for t in times.values()) >= CONTACTS
    control_rate = _rate([t for t in control if t <= down_until])
    rates = {"control": control_rate}
    for caller, created in times.items():
        assert max_in_any_second(created) <= CALLS_PER_SECOND, caller
        while_down = [t for t in created if t <= down_until]
        assert len(while_down) >= CALLS_PER_SECOND * 10, "calls were made during the outage"
        rates[caller] = _rate(while_down)
    print(f"events acceptance: calls per second while the receiver was down {rates}")
    assert max_in_any_second(control) <= CALLS_PER_SECOND
    for caller in CALLERS:
        assert rates[caller] >= 0.9 * control_rate, rates
