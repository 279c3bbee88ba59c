"""The baseline of ``dispatch_throughput``: no-op Celery tasks a second, through one worker.

The worker is configured as the orchestrator's dialing worker is (the same Celery settings:
late acks, prefetch 1, task events on, a pool of 8 threads), on the devstack's Redis in
database ``celery_baseline.BASELINE_REDIS_DB``. ``TASKS`` no-op messages are queued first;
the rate is how fast the worker drains them, from the first message taken to the last.

The driver side runs in the benchmark process; the worker imports this module through
``celery -A``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import redis
from celery import Celery

from ops.bench import celery_baseline
from orchestrator.config import get_settings
from orchestrator.enqueue import DEFAULT_QUEUE, celery_config

TASKS = 10_000
CONCURRENCY = 8
POLL_SECONDS = 0.02
TIMEOUT_SECONDS = 300.0
NOOP_TASK = "noop_baseline.noop"

app = Celery("noop_baseline")
app.conf.update(
    {**celery_config(get_settings()), "broker_url": celery_baseline.baseline_broker_url()}
)


@app.task(name=NOOP_TASK)
def noop() -> None:
    """Nothing: what Celery itself costs per task."""


def _worker_argv() -> list[str]:
    return [
        *(sys.executable, "-m", "celery", "-A", "ops.bench.noop_baseline", "worker"),
        *("-P", "threads", f"--concurrency={CONCURRENCY}", "-n", "noop@%h"),
        *("--loglevel=WARNING", "--without-gossip", "--without-mingle"),
    ]


def _drain_seconds(client: redis.Redis[bytes], tasks: int) -> float:
    """Seconds from the first message taken off the queue to the last."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    first: float | None = None
    while time.monotonic() < deadline:
        left = int(client.llen(DEFAULT_QUEUE))
        now = time.monotonic()
        if first is None and left < tasks:
            first = now
        if left == 0 and first is not None:
            return max(now - first, POLL_SECONDS)
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"the no-op worker did not drain {tasks} tasks")


def tasks_per_second(tasks: int = TASKS) -> float:
    celery_baseline.purge()
    client = redis.Redis.from_url(celery_baseline.baseline_broker_url())
    try:
        with app.producer_pool.acquire(block=True) as producer:
            for _ in range(tasks):
                app.send_task(NOOP_TASK, producer=producer)
        with (
            tempfile.TemporaryFile() as log,
            celery_baseline._group(_worker_argv(), log, dict(os.environ)),
        ):
            return tasks / _drain_seconds(client, tasks)
    finally:
        client.close()
        celery_baseline.purge()


if __name__ == "__main__":
    print(f"celery no-op: {tasks_per_second():.0f} tasks/s")
