"""The baseline of ``pacing_accuracy``: calls paced by Celery's built-in ``rate_limit``.

A small Celery app of its own, on the devstack's Redis but in database ``BASELINE_REDIS_DB``,
so it never meets the orchestrator's queues. Celery rate limits are per task name and per
worker process, so each caller number gets its own task (``place_call_task(slot)``), all
limited to ``$PACING_BASELINE_RATE_LIMIT`` (for example ``5/s``). Each task POSTs ``/call`` to
a simulator started here, which records when it created every call.

Under a backlog Celery falls well short of the limit it is given: every message that arrives
while its bucket holds others schedules one more retry on the worker's timer, the retries are
never merged, and once more than ten are due at once the event loop runs ten and polls for up
to a second. With two caller numbers at 5/s, the first seconds run at the limit per worker,
then each caller number gets one or two calls a second.

The driver side (``baseline_simulator``, ``baseline_workers``, ``enqueue_calls``) runs in the
benchmark process; the worker processes import this module through ``celery -A``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

import httpx
import redis
from celery import Celery, Task

from ops.bench.common import free_port
from orchestrator.config import get_settings

BASELINE_REDIS_DB = 3
RATE_LIMIT_ENV = "PACING_BASELINE_RATE_LIMIT"
# Caller numbers one run can pace: one rate-limited task name each.
MAX_NUMBERS = 8
ASSISTANT_ID = "assistant-pacing-bench"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
STOP_GRACE_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 60.0
LOG_TAIL_CHARS = 4000


def baseline_broker_url() -> str:
    return get_settings().redis_url.rsplit("/", 1)[0] + f"/{BASELINE_REDIS_DB}"


app = Celery("pacing_baseline", broker=baseline_broker_url())
app.conf.update(
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    # As the orchestrator's workers; a deeper prefetch only queues more timer retries.
    worker_prefetch_multiplier=1,
)


def _place_call(simulator_url: str, phone_number_id: str, customer_number: str) -> None:
    body = {
        "assistantId": ASSISTANT_ID,
        "phoneNumberId": phone_number_id,
        "customer": {"number": customer_number},
    }
    response = httpx.post(
        f"{simulator_url}/call",
        json=body,
        headers={"Authorization": "Bearer pacing-bench"},
        timeout=10,
        trust_env=False,
    )
    response.raise_for_status()


_RATE_LIMIT = os.environ.get(RATE_LIMIT_ENV, "5/s")
_TASKS: tuple[Task[[str, str, str], None], ...] = tuple(
    app.task(name=f"pacing_baseline.place_call.{slot}", rate_limit=_RATE_LIMIT)(_place_call)
    for slot in range(MAX_NUMBERS)
)


def place_call_task(slot: int) -> Task[[str, str, str], None]:
    """The task that places the calls of the ``slot``-th caller number."""
    return _TASKS[slot]


def purge() -> None:
    """Empty the baseline's Redis database, including messages an aborted run left unacked."""
    client = redis.Redis.from_url(baseline_broker_url())
    try:
        client.flushdb()
    finally:
        client.close()


def enqueue_calls(simulator_url: str, calls: Sequence[tuple[str, str]]) -> None:
    """One task per ``(phone_number_id, customer_number)``, on that number's task."""
    slots: dict[str, int] = {}
    for phone_number_id, customer_number in calls:
        slot = slots.setdefault(phone_number_id, len(slots))
        if slot >= MAX_NUMBERS:
            raise ValueError(f"the baseline paces at most {MAX_NUMBERS} caller numbers")
        place_call_task(slot).delay(simulator_url, phone_number_id, customer_number)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group the child leads, then SIGKILL it if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            pass
    # The leader may be gone while children it started still hold the group.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    process.wait(timeout=STOP_GRACE_SECONDS)


@contextmanager
def _group(
    argv: list[str], log: IO[bytes], env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        argv,
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        stop_group(process)


def _tail(log: IO[bytes]) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")[-LOG_TAIL_CHARS:]


def _simulator_ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def baseline_simulator(*, profile: str, concurrency_limit: int) -> Iterator[str]:
    """A simulator on a free loopback port for the baseline; yields its URL."""
    port = free_port()
    argv = [sys.executable, "-m", "orchestrator.cli", "simulator", f"--port={port}"]
    argv += [f"--profile={profile}", f"--concurrency-limit={concurrency_limit}"]
    url = f"http://127.0.0.1:{port}"
    with (
        tempfile.TemporaryDirectory(prefix="baseline-simulator-") as state,
        tempfile.TemporaryFile() as log,
        # A clean provider: the ground truth measured is this run's calls only.
        _group([*argv, f"--state-dir={state}", "--fresh"], log, dict(os.environ)) as process,
    ):
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not _simulator_ready(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the baseline simulator did not start:\n{_tail(log)}")
            time.sleep(0.1)
        yield url


def _worker_argv(index: int, concurrency: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "ops.bench.celery_baseline",
        "worker",
        "-P",
        "threads",
        f"--concurrency={concurrency}",
        "-n",
        f"b{index}@%h",
        "--loglevel=WARNING",
        # Gossip and mingle only slow the start of workers that never talk to each other.
        "--without-gossip",
        "--without-mingle",
    ]


def _wait_for_workers(names: set[str], logs: Sequence[IO[bytes]]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        answered = {hostname.split("@", 1)[0] for reply in replies for hostname in reply}
        if names <= answered:
            return
    tails = "\n".join(_tail(log) for log in logs)
    raise RuntimeError(f"baseline workers {sorted(names)} did not start:\n{tails}")


@contextmanager
def baseline_workers(*, limit_per_second: float, workers: int, concurrency: int) -> Iterator[None]:
    """``workers`` Celery worker processes of this app, each limiting every caller number's task."""
    env = {**os.environ, RATE_LIMIT_ENV: f"{limit_per_second:g}/s", "PYTHONUNBUFFERED": "1"}
    with ExitStack() as stack:
        logs = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(workers)]
        for index, log in enumerate(logs, start=1):
            stack.enter_context(_group(_worker_argv(index, concurrency), log, env))
        _wait_for_workers({f"b{index}" for index in range(1, workers + 1)}, logs)
        yield
