"""The ``dispatch_throughput`` line, the CPU accounting it rests on, and its Celery baseline."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from ops.bench import noop_baseline
from ops.bench.dispatch_throughput import Throughput, campaign_body, format_line
from ops.bench.process_cpu import CpuMeter, listening_pid, tree_cpu_seconds
from orchestrator.config import get_settings

LINE = re.compile(
    r"^dispatch_throughput: (\d+) calls/s \((\d+\.\d\d) x vs celery no-op tasks/s\), "
    r"(\d+\.\d\d) ms CPU per call \(api \d+\.\d\d, workers \d+\.\d\d, beat \d+\.\d\d, "
    r"postgres \d+\.\d\d, redis \d+\.\d\d\), simulator (\d+\.\d\d) ms per call$"
)


def test_the_line_gives_the_rate_the_ratio_and_each_process_cost() -> None:
    per_call = {"api": 1.0, "workers": 2.5, "beat": 0.1, "postgres": 1.2, "redis": 0.2}
    ours = Throughput(
        calls=20_000, seconds=100.0, cpu_ms_per_call=per_call, simulator_ms_per_call=0.9
    )
    line = format_line(ours, baseline_per_second=1000.0)
    found = LINE.match(line)
    assert found is not None, line
    assert (found[1], found[2], found[3], found[4]) == ("200", "0.20", "5.00", "0.90")


def test_the_campaign_spreads_its_contacts_over_every_number_in_turn() -> None:
    phone_ids = ["a", "b", "c"]
    body = campaign_body(phone_ids, 10)
    plan = {entry["phoneNumberId"]: entry["customers"] for entry in body["dialPlan"]}
    assert [len(plan[p]) for p in phone_ids] == [4, 3, 3]
    numbers = [c["number"] for customers in plan.values() for c in customers]
    assert len(set(numbers)) == 10
    assert body["status"] == "paused", "created first, timed from its resume"


def test_a_process_tree_counts_its_childrens_cpu_alive_and_reaped() -> None:
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            f"subprocess.run([sys.executable, '-c', {burn!r}])\n"
            "time.sleep(30)",
        ]
    )
    try:
        deadline = time.monotonic() + 20
        while tree_cpu_seconds(parent.pid) < 0.3:
            assert time.monotonic() < deadline, "the child's CPU was never counted"
            time.sleep(0.1)
    finally:
        parent.kill()
        parent.wait()
    assert tree_cpu_seconds(parent.pid) == 0.0, "a process gone counts nothing"


def test_the_meter_finds_postgres_and_redis_by_their_ports() -> None:
    settings = get_settings()
    assert listening_pid(int(settings.database_url.rsplit(":", 1)[1].split("/")[0])) is not None
    meter = CpuMeter.for_stack({})
    assert set(meter.pids) == {"postgres", "redis"}
    spent = meter.spent()
    assert all(seconds >= 0 for seconds in spent.values())


@pytest.mark.timeout(120)
def test_the_baseline_drains_no_op_tasks_through_one_worker() -> None:
    rate = noop_baseline.tasks_per_second(tasks=300)
    assert 10 < rate < 100_000
