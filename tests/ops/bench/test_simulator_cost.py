"""The ``simulator_cpu_per_call`` line, and a short run of the simulator it measures."""

from __future__ import annotations

import re

from ops.bench.simulator_cost import format_line, run

LINE = re.compile(
    r"^simulator_cpu_per_call: (\d+\.\d\d) ms per call \((\d+) calls, (\d+) webhooks\)$"
)


def test_the_line_names_the_cost_the_calls_and_the_webhooks() -> None:
    assert format_line(1.234, 5000, 18000) == (
        "simulator_cpu_per_call: 1.23 ms per call (5000 calls, 18000 webhooks)"
    )


def test_a_short_run_waits_for_every_calls_webhooks() -> None:
    found = LINE.match(run(calls=40, rate=200.0))
    assert found is not None
    ms, calls, webhooks = float(found[1]), int(found[2]), int(found[3])
    assert calls == 40
    # Every call sends its ended status-update and its report; most also ring and answer.
    assert 2 * calls <= webhooks <= 4 * calls
    assert ms > 0
