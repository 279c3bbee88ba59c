"""Ctrl-C on ``orchestrator up`` mid-campaign, then ``up`` again: it picks up where it stopped.

The calls in flight at the stop must not keep the org's capacity: the restarted simulator still
knows them (and ends them, the customer having hung up), the restarted API has them looked up
at once, and a new campaign runs as fast as the same campaign did before the stop.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import counter_drift
from orchestrator.config import get_settings
from orchestrator.models import Call, Campaign, Contact
from orchestrator.models.enums import IN_FLIGHT_CALL_STATUSES
from orchestrator.runner import free_port
from tests.support.ground_truth import calls_at, start_paced_campaign, stats_at

pytestmark = [pytest.mark.e2e, pytest.mark.acceptance]

# Named after the test database, so two checkouts testing at once never share it.
RESTART_DATABASE_SUFFIX = "restart"
RESTART_REDIS_DB = 12
LINES = ("restart-a", "restart-b")
# The interrupted campaign calls from numbers of its own: a number's rate is shared by every
# campaign using it, and the new campaign must be judged on capacity alone.
INTERRUPTED_LINES = ("restart-c", "restart-d")
STARTUP_TIMEOUT = 90.0


def _urls() -> tuple[str, str]:
    settings = get_settings()
    base, test_database = settings.database_url.rsplit("/", 1)
    database_url = f"{base}/{test_database}_{RESTART_DATABASE_SUFFIX}"
    redis_url = urlunsplit(urlsplit(settings.redis_url)._replace(path=f"/{RESTART_REDIS_DB}"))
    return database_url, redis_url


@pytest.fixture
def restart_env(database_url: str) -> dict[str, str]:
    """A database and Redis of its own, empty: every call in them is this test's."""
    own_database, own_redis = _urls()
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        own_name = own_database.rsplit("/", 1)[1]
        conn.execute(text(f"DROP DATABASE IF EXISTS {own_name} WITH (FORCE)"))
    admin.dispose()
    return {**os.environ, "ORCH_DATABASE_URL": own_database, "ORCH_REDIS_URL": own_redis}


class Up:
    """One ``orchestrator up`` on fixed ports: ``start`` it, read its API key, Ctrl-C it."""

    def __init__(self, tmp_path: Path, env: dict[str, str], run: int, ports: tuple[int, int]):
        self.log_path = tmp_path / f"up-{run}.log"
        argv = [
            *(sys.executable, "-m", "orchestrator.cli", "up", "--json"),
            *("--workers", "1", "--concurrency", "8", "--profile", "fast"),
            f"--api-port={ports[0]}",
            f"--simulator-port={ports[1]}",
            f"--simulator-state-dir={tmp_path / 'simulator'}",
        ]
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=log, text=True, env=env
            )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def ready(self) -> dict[str, Any]:
        try:
            info: dict[str, Any] = json.loads(self.lines.get(timeout=STARTUP_TIMEOUT))
        except queue.Empty:
            pytest.fail(f"up was not ready in {STARTUP_TIMEOUT:.0f} s\n{self.tail()}")
        return info

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(timeout=60) == 0, self.tail()

    def tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-60:])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _client(info: dict[str, Any]) -> httpx.Client:
    headers = {"Authorization": f"Bearer {info['apiKey']}"}
    return httpx.Client(base_url=info["api"], headers=headers, timeout=30, trust_env=False)


def _post(
    client: httpx.Client,
    *,
    contacts: int,
    max_concurrency: int,
    first: int,
    lines: tuple[str, str] = LINES,
) -> str:
    half = contacts // 2
    return start_paced_campaign(
        client,
        name=f"restart {first}",
        calls_per_second=25,
        number_caps=dict.fromkeys(lines),
        contacts_by_caller={lines[0]: half, lines[1]: contacts - half},
        max_concurrency=max_concurrency,
        first_number=first,
    )


def _wait_for_end(client: httpx.Client, campaign_id: str, up: Up, timeout: float) -> float:
    """Seconds until the campaign ended."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        campaign = client.get(f"/campaign/{campaign_id}").json()
        if campaign["status"] == "ended":
            return time.monotonic() - started
        time.sleep(0.25)
    pytest.fail(f"campaign {campaign_id} did not end: {campaign.get('pacing')}\n{up.tail()}")


def _timed_campaign(client: httpx.Client, up: Up, first: int) -> tuple[str, float]:
    campaign_id = _post(client, contacts=200, max_concurrency=25, first=first)
    return campaign_id, _wait_for_end(client, campaign_id, up, timeout=180)


def _interrupt_mid_campaign(client: httpx.Client, up: Up) -> str:
    """The issue's scenario: 300 contacts at maxConcurrency 50, Ctrl-C with calls in flight."""
    campaign_id = _post(
        client, contacts=300, max_concurrency=50, first=20_000, lines=INTERRUPTED_LINES
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        campaign = client.get(f"/campaign/{campaign_id}").json()
        in_flight = campaign["callsCounterQueued"] + campaign["callsCounterInProgress"]
        if in_flight >= 15 and campaign["callsCounterEnded"] >= 20:
            break
        time.sleep(0.05)
    up.interrupt()
    return campaign_id


def _in_flight(engine: Engine, campaign_id: str) -> int:
    with Session(engine) as session:
        stmt = select(func.count()).where(
            Call.campaign_id == uuid.UUID(campaign_id), Call.status.in_(IN_FLIGHT_CALL_STATUSES)
        )
        return int(session.scalar(stmt) or 0)


@pytest.mark.timeout(600)
def test_after_ctrl_c_a_restarted_stack_ends_the_interrupted_calls_and_runs_at_full_speed(
    tmp_path: Path, restart_env: dict[str, str]
) -> None:
    api_port = free_port()
    ports = (api_port, free_port(avoid=api_port))
    first = Up(tmp_path, restart_env, 1, ports)
    try:
        with _client(first.ready()) as client:
            reference, before = _timed_campaign(client, first, first=10_000)
            interrupted = _interrupt_mid_campaign(client, first)
    finally:
        first.close()
    engine = create_engine(restart_env["ORCH_DATABASE_URL"])
    held = _in_flight(engine, interrupted)
    assert held >= 10, "the stop should have caught calls in flight"
    second = Up(tmp_path, restart_env, 2, ports)
    try:
        info = second.ready()
        with _client(info) as client:
            # The interrupted campaign finishes first: run beside it, the new campaign would be
            # timed on its share of the org's limit rather than on the capacity held calls return.
            _wait_for_end(client, interrupted, second, timeout=240)
            after_campaign, after = _timed_campaign(client, second, first=30_000)
        print(f"\n200 contacts: {before:.1f} s on a fresh stack, {after:.1f} s after the restart")
        assert after <= 1.5 * before + 5, (before, after, second.tail())
        _check_ground_truth(engine, info["simulator"], [reference, interrupted, after_campaign])
        second.interrupt()
    finally:
        second.close()
        engine.dispose()


def _check_ground_truth(engine: Engine, simulator_url: str, campaign_ids: list[str]) -> None:
    """Counters equal a recount; nobody dialed twice, across both runs of the simulator."""
    stats = stats_at(simulator_url)
    assert stats["numbersDialedMoreThanOnce"] == []
    truth = {call["id"]: call for call in calls_at(simulator_url)}
    with Session(engine) as session:
        for campaign_id in campaign_ids:
            campaign = session.get(Campaign, uuid.UUID(campaign_id))
            assert campaign is not None
            assert counter_drift(session, campaign=campaign) == {}, campaign_id
            _check_calls(session, campaign.id, truth)


def _check_calls(session: Session, campaign_id: uuid.UUID, truth: dict[str, Any]) -> None:
    rows = session.execute(
        select(Contact.number, Call.provider_call_id, Call.status, Call.ended_reason)
        .join(Call, Call.contact_id == Contact.id)
        .where(Contact.campaign_id == campaign_id, Call.provider_call_id.is_not(None))
    ).all()
    dialed = Counter(number for number, provider_id, *_ in rows if provider_id in truth)
    assert dialed and max(dialed.values()) == 1, "a customer was dialed twice"
    for number, provider_id, status, reason in rows:
        real = truth[str(provider_id)]
        assert real["customer"]["number"] == number
        assert (status, reason) == (real["status"], real["endedReason"]), number
