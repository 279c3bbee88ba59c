"""A campaign through every real component, watched as an operator would: its progress and
dial rate at ``/metrics``, and each dial and webhook batch in a real Flower, behind its
credentials."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from orchestrator.enqueue import APPLY_WEBHOOKS, PLACE_CALL, PLACE_CALLS
from orchestrator.models import Call
from orchestrator.orgs.service import create_org
from orchestrator.runner import StackOptions
from tests.factories import customer_numbers
from tests.support.metrics import scrape
from tests.support.stack import Stack, e2e_stack

pytestmark = pytest.mark.e2e

CONTACTS = 20
CREDENTIALS = ("ops", f"pw-{uuid.uuid4().hex}")


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(
        api_port=0, simulator_port=0, workers=1, concurrency=4, profile="fast", seed=11
    )
    with e2e_stack(options) as stack:
        yield stack


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def flower(stack: Stack) -> Iterator[str]:
    """A real Flower on the stack's broker, started as ``orchestrator flower`` starts it."""
    port = _free_port()
    args = ["flower", "--port", str(port), "--basic-auth", ":".join(CREDENTIALS)]
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", *args],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/api/workers", auth=CREDENTIALS).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "Flower did not answer"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _run_campaign(client: httpx.Client) -> tuple[str, dict[str, Any]]:
    paced = client.put("/phone-number/metrics-caller/pacing", json={"callsPerSecond": 20})
    assert paced.status_code == 200, paced.text
    body = {
        "name": "watched",
        "assistantId": "assistant-e2e",
        "phoneNumberId": "metrics-caller",
        "customers": [{"number": n} for n in customer_numbers(CONTACTS, start=7000)],
    }
    created = client.post("/campaign", json=body)
    assert created.status_code == 201, created.text
    campaign_id: str = created.json()["id"]
    started = scrape(client).series("orchestrator_campaign_contacts", campaign=campaign_id)
    deadline = time.monotonic() + 120
    while client.get(f"/campaign/{campaign_id}").json()["status"] != "ended":
        assert time.monotonic() < deadline, "the campaign did not end"
        time.sleep(0.5)
    return campaign_id, {labels["status"]: value for labels, value in started}


def test_a_campaign_is_seen_in_the_metrics_and_each_task_in_flower(
    stack: Stack, flower: str, committed: Session
) -> None:
    org = create_org(committed, name=f"e2e-metrics-{uuid.uuid4()}", concurrency_limit=10)
    committed.commit()
    headers = {"Authorization": f"Bearer {org.api_key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as client:
        campaign_id, at_start = _run_campaign(client)
        page = scrape(client)
    assert sum(at_start.values()) == CONTACTS, "its progress was served while it ran"
    org_id = str(org.org_id)
    assert page.value("orchestrator_call_creates_total", org=org_id, outcome="accepted") == CONTACTS
    assert (page.value("orchestrator_call_create_seconds_count") or 0) >= CONTACTS
    assert (page.value("orchestrator_webhook_apply_lag_seconds_count") or 0) >= CONTACTS
    assert page.series("orchestrator_calls_in_flight_by_number", org=org_id) == []
    assert page.series("orchestrator_campaign_contacts", campaign=campaign_id) == []

    assert httpx.get(f"{flower}/api/tasks").status_code == 401
    tasks = httpx.get(f"{flower}/api/tasks", auth=CREDENTIALS, params={"limit": 10000}).json()
    by_name: dict[str, set[str]] = {}
    for task in tasks.values():
        by_name.setdefault(task["name"], set()).add(task["state"])
    assert "SUCCESS" in by_name.get(PLACE_CALLS, set()), f"{stack.logs()}\n{by_name}"
    assert "SUCCESS" in by_name.get(APPLY_WEBHOOKS, set()), by_name
    # Calls are placed in batches; one whose slot is further off is placed on its own.
    dialed = " ".join(
        str(t.get("args")) for t in tasks.values() if t["name"] in (PLACE_CALLS, PLACE_CALL)
    )
    call_ids = committed.scalars(select(Call.id).where(Call.campaign_id == uuid.UUID(campaign_id)))
    missing = [call_id for call_id in call_ids if str(call_id) not in dialed]
    assert missing == [], "every dial is listed"
