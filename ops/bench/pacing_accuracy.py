"""``pacing_accuracy``: how exactly a caller number's calls-per-second limit holds across workers.

Ours: the whole stack with two worker processes runs one campaign over ``numbers`` caller
numbers, each paced with ``PUT /phone-number/{id}/pacing``. Baseline: the same calls through
Celery's per-worker ``rate_limit`` in two worker processes (``ops.bench.celery_baseline``).
Both are judged on the simulator's ground truth, when it created each call:

* max-window: the most creates of one caller number in any 1-second window ``(t - 1, t]``,
  over the limit. 1.00 is exact; two independently limited workers reach 2 or more.
* achieved: each caller number's rate while its calls were being placed,
  ``(count - 1) / span``, averaged over the caller numbers, over the limit. Below 1 means the
  limit was not used up.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import httpx
import redis

from ops.bench import celery_baseline
from ops.bench.common import prepare_bench_database
from orchestrator.config import get_settings
from orchestrator.runner import StackError, StackInfo, StackOptions, running_stack

CONTACTS = 300
NUMBERS = 2
LIMIT_PER_SECOND = 5.0
WORKERS = 2
CONCURRENCY = 4
PROFILE = "fast"
# Neither the provider's nor the org's concurrency cap may be what slows the calls down.
UNCAPPED = 10_000
# Ours runs on its own Redis database, so a dev stack on the default one never takes its tasks.
OURS_REDIS_DB = 2
# Celery's rate_limit falls far behind its rate once a backlog builds (see celery_baseline), so
# placing every call could take minutes: twice the time the limit needs for them is enough.
BASELINE_BUDGET_SECONDS = 2 * CONTACTS / (NUMBERS * LIMIT_PER_SECOND)
AREA_CODES = ("415", "650")
LIST_PAGE = 1000
POLL_SECONDS = 2.0
# Timestamps carry milliseconds; this only absorbs float rounding at exactly 1 s apart.
WINDOW_EPSILON = 1e-6


@dataclass(frozen=True)
class PacingFigures:
    calls: int
    max_window_calls: int
    max_window_ratio: float
    achieved_ratio: float


def max_in_window(times: Sequence[float]) -> int:
    """The most of ``times`` in any half-open window ``(t - 1, t]``."""
    ordered = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= 1.0 - WINDOW_EPSILON:
            start += 1
        best = max(best, end - start + 1)
    return best


def achieved_rate(times: Sequence[float]) -> float | None:
    """Calls per second from the first to the last; None below two calls."""
    if len(times) < 2:
        return None
    span = max(times) - min(times)
    return (len(times) - 1) / span if span > 0 else math.inf


def measure_pacing(
    created: Mapping[str, Sequence[float]], *, limit_per_second: float
) -> PacingFigures:
    """Figures over creation times in seconds, keyed by caller phone number id."""
    if limit_per_second <= 0:
        raise ValueError("limit_per_second must be positive")
    windows = [max_in_window(times) for times in created.values()]
    rates = [rate for times in created.values() if (rate := achieved_rate(times)) is not None]
    max_window = max(windows, default=0)
    achieved = sum(rates) / len(rates) if rates else 0.0
    return PacingFigures(
        calls=sum(len(times) for times in created.values()),
        max_window_calls=max_window,
        max_window_ratio=max_window / limit_per_second,
        achieved_ratio=achieved / limit_per_second,
    )


def created_times(calls: Iterable[Mapping[str, Any]]) -> dict[str, list[float]]:
    """``createdAt`` of simulator calls, in epoch seconds, keyed by ``phoneNumberId``."""
    created: defaultdict[str, list[float]] = defaultdict(list)
    for call in calls:
        moment = datetime.fromisoformat(str(call["createdAt"]))
        created[str(call["phoneNumberId"])].append(moment.timestamp())
    return dict(created)


def fetch_simulator_calls(simulator_url: str) -> list[dict[str, Any]]:
    """Every call the simulator created, oldest first, paging ``GET /call``."""
    found: dict[str, dict[str, Any]] = {}
    params: dict[str, str | int] = {"limit": LIST_PAGE, "sortOrder": "ASC"}
    headers = {"Authorization": "Bearer pacing-bench"}
    with httpx.Client(
        base_url=simulator_url, headers=headers, timeout=30, trust_env=False
    ) as client:
        while True:
            response = client.get("/call", params=params)
            response.raise_for_status()
            page: list[dict[str, Any]] = response.json()
            fresh = [call for call in page if call["id"] not in found]
            found.update((call["id"], call) for call in fresh)
            if len(page) < LIST_PAGE:
                return list(found.values())
            if not fresh:
                raise RuntimeError("more calls share one createdAt than GET /call can page")
            # Ge, not Gt: calls created in the same millisecond may straddle the page edge.
            params["createdAtGe"] = page[-1]["createdAt"]


def simulator_max_per_second(simulator_url: str) -> dict[str, int]:
    """The simulator's own count: most creates per caller number in any sliding second."""
    response = httpx.get(f"{simulator_url}/simulator/stats", timeout=10, trust_env=False)
    response.raise_for_status()
    counts: dict[str, int] = response.json()["maxCallsPerSecondByPhoneNumber"]
    return counts


def measure_simulator(
    simulator_url: str, phone_number_ids: Sequence[str], *, limit_per_second: float
) -> PacingFigures:
    """Figures from the simulator's ground truth for these caller numbers, cross-checked."""
    created = created_times(fetch_simulator_calls(simulator_url))
    ours = {phone_id: created.get(phone_id, []) for phone_id in phone_number_ids}
    figures = measure_pacing(ours, limit_per_second=limit_per_second)
    counted = simulator_max_per_second(simulator_url)
    seen = max((counted.get(phone_id, 0) for phone_id in phone_number_ids), default=0)
    # The simulator counts on its monotonic clock, we on millisecond timestamps: one apart at most.
    if abs(seen - figures.max_window_calls) > 1:
        print(
            f"pacing_accuracy: simulator counted {seen} calls in a second, "
            f"createdAt gives {figures.max_window_calls}",
            file=sys.stderr,
        )
    return figures


# --------------------------------------------------------------------------- the calls


def phone_number_ids(count: int) -> list[str]:
    """Fresh caller ids, so no pacing state of an earlier run applies."""
    run = uuid.uuid4().hex[:8]
    return [f"pacing-{run}-{index + 1}" for index in range(count)]


def customer_numbers(count: int) -> list[str]:
    if count > 10_000 * len(AREA_CODES):
        raise ValueError(f"at most {10_000 * len(AREA_CODES)} contacts")
    return [f"+1{AREA_CODES[i // 10_000]}555{i % 10_000:04d}" for i in range(count)]


def planned_calls(phone_ids: Sequence[str], contacts: int) -> list[tuple[str, str]]:
    """``(phone_number_id, customer_number)`` pairs, the caller numbers taking turns."""
    return [
        (phone_ids[index % len(phone_ids)], number)
        for index, number in enumerate(customer_numbers(contacts))
    ]


def campaign_body(calls: Sequence[tuple[str, str]]) -> dict[str, Any]:
    by_caller: defaultdict[str, list[dict[str, str]]] = defaultdict(list)
    for phone_id, customer in calls:
        by_caller[phone_id].append({"number": customer})
    return {
        "name": "pacing accuracy",
        "assistantId": celery_baseline.ASSISTANT_ID,
        "maxConcurrency": UNCAPPED,
        "dialPlan": [
            {"phoneNumberId": phone_id, "customers": customers}
            for phone_id, customers in by_caller.items()
        ],
    }


def wait_seconds(contacts: int, numbers: int, limit: float) -> float:
    """Generous: four times the paced duration, plus start-up."""
    return 60.0 + 4 * contacts / (numbers * limit)


# --------------------------------------------------------------------------- ours


@dataclass
class _TailSink:
    """The stack's last log lines, shown only when the run fails."""

    lines: deque[str] = field(default_factory=lambda: deque(maxlen=200))

    def emit(self, source: str, line: str) -> None:
        self.lines.append(f"{source:>8}| {line}")


@contextmanager
def _own_redis_database() -> Iterator[None]:
    previous = os.environ.get("ORCH_REDIS_URL")
    url = get_settings().redis_url.rsplit("/", 1)[0] + f"/{OURS_REDIS_DB}"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()  # tasks of an aborted run would otherwise be picked up
    finally:
        client.close()
    os.environ["ORCH_REDIS_URL"] = url
    get_settings.cache_clear()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("ORCH_REDIS_URL", None)
        else:
            os.environ["ORCH_REDIS_URL"] = previous
        get_settings.cache_clear()


def _wait_for_end(client: httpx.Client, campaign_id: str, stack: StackInfo, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    status = "?"
    while time.monotonic() < deadline:
        stack.raise_if_failed()
        response = client.get(f"/campaign/{campaign_id}")
        response.raise_for_status()
        status = str(response.json()["status"])
        if status == "ended":
            return
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"campaign {campaign_id} still {status!r} after {timeout:.0f} s")


def _run_campaign(stack: StackInfo, calls: Sequence[tuple[str, str]], limit: float) -> None:
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    phone_ids = sorted({phone_id for phone_id, _ in calls})
    with httpx.Client(
        base_url=stack.api_url, headers=headers, timeout=60, trust_env=False
    ) as client:
        for phone_id in phone_ids:
            pacing = {"callsPerSecond": limit, "maxConcurrency": None}
            client.put(f"/phone-number/{phone_id}/pacing", json=pacing).raise_for_status()
        response = client.post("/campaign", json=campaign_body(calls))
        if response.status_code != 201:
            raise RuntimeError(f"POST /campaign: {response.status_code} {response.text}")
        timeout = wait_seconds(len(calls), len(phone_ids), limit)
        _wait_for_end(client, str(response.json()["id"]), stack, timeout)


def run_ours(
    contacts: int = CONTACTS, numbers: int = NUMBERS, limit: float = LIMIT_PER_SECOND
) -> PacingFigures:
    """One campaign through the whole stack with two worker processes."""
    phone_ids = phone_number_ids(numbers)
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        workers=WORKERS,
        concurrency=CONCURRENCY,
        profile=PROFILE,
        simulator_concurrency_limit=UNCAPPED,
        org_concurrency_limit=UNCAPPED,
        # A clean provider: the ground truth measured is this run's calls only.
        fresh_simulator=True,
    )
    sink = _TailSink()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-simulator-") as state,
            _own_redis_database(),
            running_stack(replace(options, simulator_state_dir=state), sink=sink) as stack,
        ):
            _run_campaign(stack, planned_calls(phone_ids, contacts), limit)
            return measure_simulator(stack.simulator_url, phone_ids, limit_per_second=limit)
    except (StackError, RuntimeError, TimeoutError, httpx.HTTPError):
        print("\n".join(sink.lines), file=sys.stderr)
        raise


# --------------------------------------------------------------------------- baseline


def _wait_for_created(simulator_url: str, expected: int, timeout: float) -> int:
    """How many calls the simulator created once it has ``expected`` or ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while True:
        stats = httpx.get(f"{simulator_url}/simulator/stats", timeout=10, trust_env=False)
        placed = int(stats.raise_for_status().json()["callsPlaced"])
        if placed >= expected or time.monotonic() >= deadline:
            return placed
        time.sleep(POLL_SECONDS)


def run_baseline(
    contacts: int = CONTACTS,
    numbers: int = NUMBERS,
    limit: float = LIMIT_PER_SECOND,
    *,
    budget_seconds: float | None = BASELINE_BUDGET_SECONDS,
) -> PacingFigures:
    """The same calls through Celery's ``rate_limit`` in two worker processes.

    Placing stops after ``budget_seconds`` (None: when every call is placed); the figures are
    rates, so they hold over the calls placed by then.
    """
    phone_ids = phone_number_ids(numbers)
    calls = planned_calls(phone_ids, contacts)
    budget = wait_seconds(contacts, numbers, limit) if budget_seconds is None else budget_seconds
    celery_baseline.purge()
    try:
        with celery_baseline.baseline_simulator(
            profile=PROFILE, concurrency_limit=UNCAPPED
        ) as simulator_url:
            with celery_baseline.baseline_workers(
                limit_per_second=limit, workers=WORKERS, concurrency=CONCURRENCY
            ):
                celery_baseline.enqueue_calls(simulator_url, calls)
                placed = _wait_for_created(simulator_url, len(calls), budget)
            # Measured after the workers stopped, so the stats cross-check sees no late creates.
            if placed < len(calls) and budget_seconds is None:
                raise TimeoutError(f"the baseline placed {placed} of {len(calls)} calls")
            if placed < len(calls):
                print(
                    f"pacing_accuracy: celery placed {placed} of {len(calls)} calls "
                    f"within its {budget:.0f} s budget",
                    file=sys.stderr,
                )
            return measure_simulator(simulator_url, phone_ids, limit_per_second=limit)
    finally:
        celery_baseline.purge()


# --------------------------------------------------------------------------- the line


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def format_line(ours: PacingFigures, baseline: PacingFigures) -> str:
    versus = _ratio(ours.max_window_ratio, baseline.max_window_ratio)
    return (
        f"pacing_accuracy: {ours.max_window_ratio:.2f} x max-window, "
        f"{ours.achieved_ratio:.2f} x achieved ({versus:.2f} x vs baseline celery rate_limit "
        f"at {baseline.max_window_ratio:.2f} x max-window, "
        f"{baseline.achieved_ratio:.2f} x achieved)"
    )


def run() -> str:
    return format_line(run_ours(), run_baseline())


if __name__ == "__main__":
    prepare_bench_database()
    print(run(), flush=True)
