"""``dispatch_throughput``: how many calls a second the whole stack places and settles.

The stack runs as ``orchestrator up`` runs it (one dialing worker process, the outbound
worker, beat, the API and the simulator, on the devstack's Postgres and Redis), with limits
that never bind: the simulator's ``instant`` profile, 20 caller numbers paced far above what
is reached, the org's and the provider's concurrency uncapped. One campaign of
``CONTACTS`` is created paused, then resumed; the clock runs from the resume to the moment
the campaign has ended, which is when every call's end-of-call report has been applied.

CPU comes from each process's own accounting (user + system, its children's included), read
before and after: the API, the workers (dialing and outbound), beat, every Postgres process,
Redis, and the simulator apart, divided by the calls placed. The baseline is Celery itself:
no-op tasks a second through one worker of the same configuration, measured in the same run
(``ops.bench.noop_baseline``).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx

from ops.bench import noop_baseline
from ops.bench.pacing_accuracy import _own_redis_database, _TailSink
from ops.bench.process_cpu import CpuMeter
from orchestrator.runner import StackError, StackInfo, StackOptions, running_stack

CONTACTS = 20_000
NUMBERS = 20
CALLS_PER_SECOND_PER_NUMBER = 1_000.0
UNCAPPED = 100_000
CAMPAIGN_MAX_CONCURRENCY = 10_000
POLL_SECONDS = 0.5
TIMEOUT_SECONDS = 900.0
# Which stack children each figure adds up (their names in ``StackInfo.processes``).
ROLES = {"api": ("api",), "workers": ("worker", "outbound"), "beat": ("beat",)}


@dataclass(frozen=True)
class Throughput:
    calls: int
    seconds: float
    cpu_ms_per_call: Mapping[str, float]
    simulator_ms_per_call: float

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.seconds

    @property
    def orchestrator_ms_per_call(self) -> float:
        return sum(self.cpu_ms_per_call.values())


def campaign_body(phone_ids: list[str], contacts: int) -> dict[str, Any]:
    per_number: dict[str, list[dict[str, str]]] = {phone_id: [] for phone_id in phone_ids}
    for index in range(contacts):
        number = f"+1{415 + index // 10_000}555{index % 10_000:04d}"
        per_number[phone_ids[index % len(phone_ids)]].append({"number": number})
    return {
        "name": "dispatch throughput",
        "assistantId": "assistant-throughput-bench",
        "maxConcurrency": CAMPAIGN_MAX_CONCURRENCY,
        "status": "paused",
        "dialPlan": [
            {"phoneNumberId": phone_id, "customers": customers}
            for phone_id, customers in per_number.items()
        ],
    }


@contextmanager
def _customers_per_request(limit: int) -> Iterator[None]:
    """The API takes the whole campaign in one request (the stack's children inherit it)."""
    previous = os.environ.get("ORCH_MAX_CUSTOMERS_PER_REQUEST")
    os.environ["ORCH_MAX_CUSTOMERS_PER_REQUEST"] = str(limit)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("ORCH_MAX_CUSTOMERS_PER_REQUEST", None)
        else:
            os.environ["ORCH_MAX_CUSTOMERS_PER_REQUEST"] = previous


def _create_paused(client: httpx.Client, contacts: int) -> str:
    phone_ids = [f"throughput-{index + 1}" for index in range(NUMBERS)]
    for phone_id in phone_ids:
        pacing = {"callsPerSecond": CALLS_PER_SECOND_PER_NUMBER, "maxConcurrency": None}
        client.put(f"/phone-number/{phone_id}/pacing", json=pacing).raise_for_status()
    response = client.post("/campaign", json=campaign_body(phone_ids, contacts))
    if response.status_code != 201:
        raise RuntimeError(f"POST /campaign: {response.status_code} {response.text[:2000]}")
    return str(response.json()["id"])


def _run_until_ended(client: httpx.Client, campaign_id: str, stack: StackInfo) -> None:
    resumed = client.patch(f"/v2/campaign/{campaign_id}", json={"status": "in-progress"})
    resumed.raise_for_status()
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        stack.raise_if_failed()
        # The status alone: the counters and insights would cost Postgres a count over the
        # campaign's calls at every poll, which is the observer's cost, not the stack's.
        campaign: dict[str, Any] = client.get(
            f"/v2/campaign/{campaign_id}", params={"includeCounters": "false"}
        ).json()
        if campaign["status"] == "ended":
            return
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"campaign {campaign_id} did not end in {TIMEOUT_SECONDS:.0f} s")


def _measure(stack: StackInfo, contacts: int) -> Throughput:
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    with httpx.Client(
        base_url=stack.api_url, headers=headers, timeout=120, trust_env=False
    ) as client:
        campaign_id = _create_paused(client, contacts)
        meter = CpuMeter.for_stack(stack.processes)
        started = time.monotonic()
        _run_until_ended(client, campaign_id, stack)
        seconds = time.monotonic() - started
        spent = meter.spent()
        campaign = client.get(f"/campaign/{campaign_id}").json()
    calls = int(campaign["callsCounterEnded"])
    counters = campaign["contactCounters"]
    # A few generated numbers are not dialable (the gate skips them); every other one is called.
    if calls + counters["skipped"] != contacts or calls < 0.99 * contacts:
        raise RuntimeError(f"{calls} calls ended of {contacts} contacts: {counters}")
    per_call = {role: 1000 * spent.get(role, 0.0) / calls for role in CpuMeter.ORCHESTRATOR_ROLES}
    return Throughput(calls, seconds, per_call, 1000 * spent.get("simulator", 0.0) / calls)


def run_ours(contacts: int = CONTACTS) -> Throughput:
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        profile="instant",
        simulator_concurrency_limit=UNCAPPED,
        org_concurrency_limit=UNCAPPED,
        fresh_simulator=True,
    )
    sink = _TailSink()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-simulator-") as state,
            _own_redis_database(),
            _customers_per_request(contacts),
            running_stack(replace(options, simulator_state_dir=state), sink=sink) as stack,
        ):
            return _measure(stack, contacts)
    except (StackError, RuntimeError, TimeoutError, httpx.HTTPError):
        print("\n".join(sink.lines), file=sys.stderr)
        raise


def format_line(ours: Throughput, baseline_per_second: float) -> str:
    roles = ", ".join(f"{role} {ms:.2f}" for role, ms in ours.cpu_ms_per_call.items())
    return (
        f"dispatch_throughput: {ours.calls_per_second:.0f} calls/s "
        f"({ours.calls_per_second / baseline_per_second:.2f} x vs celery no-op tasks/s), "
        f"{ours.orchestrator_ms_per_call:.2f} ms CPU per call ({roles}), "
        f"simulator {ours.simulator_ms_per_call:.2f} ms per call"
    )


def run() -> str:
    baseline = noop_baseline.tasks_per_second()
    return format_line(run_ours(), baseline)


if __name__ == "__main__":
    print(run())
