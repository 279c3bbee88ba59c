"""The ``orchestrator simulator`` command on a state dir: killed, refused, defaulted, fresh."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.simulator import (
    SimulatorConfig,
    SimulatorStateLocked,
    create_simulator_app,
    state_dir_in_use,
)
from orchestrator.simulator.outcomes import CUSTOMER_ENDED, FAILED_TO_CONNECT, NO_ANSWER
from orchestrator.simulator.records import from_ms, iso
from tests.support.servers import wait_until
from tests.support.simulators import (
    Sim,
    find_number,
    journal_lines,
    journal_path,
    outcome,
    running,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "orchestrator.cli", "simulator", *args]


@contextmanager
def simulator_process(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[Sim, subprocess.Popen[bytes]]]:
    """``orchestrator simulator`` on a free port until it answers; SIGTERM on exit if alive."""
    port = free_port()
    process = subprocess.Popen(command(f"--port={port}", *args), env=env)
    sim = Sim(f"http://127.0.0.1:{port}")

    def healthy() -> bool:
        assert process.poll() is None, "the simulator exited"
        try:
            return httpx.get(f"{sim.base_url}/healthz").status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(healthy, timeout=30.0)
        yield sim, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def crash_numbers() -> tuple[str, str, str]:
    """Steady calls that, ~1 s in, have ended, are talking and are ringing."""
    steady = "steady"
    ended = find_number(
        lambda n: (
            outcome(n, steady).ended_reason == FAILED_TO_CONNECT
            and outcome(n, steady).ring_seconds < 0.9
        )
    )
    talking = find_number(
        lambda n: (
            outcome(n, steady).ended_reason == CUSTOMER_ENDED
            and outcome(n, steady).ring_seconds < 0.9
            and outcome(n, steady).talk_seconds > 3.5
        ),
        start=100,
    )
    ringing = find_number(
        lambda n: (
            outcome(n, steady).ended_reason == NO_ANSWER and outcome(n, steady).ring_seconds > 3.5
        ),
        start=200,
    )
    return ended, talking, ringing


def kill_mid_calls(state_dir: Path) -> dict[str, dict[str, Any]]:
    """Place the crash numbers' calls, SIGKILL the simulator ~1 s in; their states then."""
    with simulator_process(f"--state-dir={state_dir}", "--profile=steady") as (sim, process):
        ids = [sim.create(number) for number in crash_numbers()]
        wait_until(lambda: [sim.known(i)["status"] for i in ids[:2]] == ["ended", "in-progress"])
        before = {call_id: sim.known(call_id) for call_id in ids}
        process.kill()
        process.wait(timeout=15)
    return before


def test_a_killed_simulator_loses_nothing_it_answered(tmp_path: Path) -> None:
    before = kill_mid_calls(tmp_path)
    last = journal_lines(tmp_path)[-1]
    assert last["op"] != "stopped"
    with journal_path(tmp_path).open("ab") as journal:
        journal.write(b'{"op":"status","at":17,"id":"')  # as if killed mid-write
    with simulator_process(f"--state-dir={tmp_path}") as (sim, _):
        after = {call_id: sim.known(call_id) for call_id in before}
        stats = sim.stats()
    ended, talking, ringing = before
    assert after[ended] == before[ended]
    assert after[talking]["endedReason"] == CUSTOMER_ENDED
    assert after[talking]["startedAt"] == before[talking]["startedAt"] is not None
    assert after[ringing]["endedReason"] == NO_ANSWER
    assert after[ringing]["startedAt"] is None
    for call_id in (talking, ringing):
        assert after[call_id]["endedAt"] == iso(from_ms(int(last["at"])))
    assert stats["callsPlaced"] == 3
    assert stats["inFlight"] == 0
    assert stats["endedReasons"] == {FAILED_TO_CONNECT: 1, CUSTOMER_ENDED: 1, NO_ANSWER: 1}


def test_a_second_simulator_on_the_same_dir_is_refused(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    assert not state_dir_in_use(state_dir)
    with running(state_dir) as sim:
        kept = sim.create("+14443000000")
        sim.settled()
        journal = journal_path(state_dir).read_bytes()
        assert state_dir_in_use(state_dir)
        with pytest.raises(SimulatorStateLocked, match=re.escape(str(state_dir))) as refused:
            create_simulator_app(SimulatorConfig(state_dir=state_dir, fresh=True))
        assert refused.value.state_dir == state_dir.resolve()
        cli = subprocess.run(
            command("--port=0", f"--state-dir={state_dir}", "--fresh"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert cli.returncode == 2
        assert f"simulator state dir {state_dir.resolve()} is in use" in cli.stderr
        assert journal_path(state_dir).read_bytes() == journal  # left alone, fresh or not
    assert not state_dir_in_use(state_dir)
    with running(state_dir) as sim:
        assert [call["id"] for call in sim.calls()] == [kept]


def test_the_command_keeps_its_state_in_the_devstack_dir_until_fresh(tmp_path: Path) -> None:
    env = {**os.environ, "ORCH_DEVSTACK_DIR": str(tmp_path / "devstack")}
    state_dir = tmp_path / "devstack" / "simulator"
    with simulator_process(env=env) as (sim, _):
        call_id = sim.create("+14443000001")
    lines = journal_lines(state_dir)
    assert lines[-1]["op"] == "stopped"  # SIGTERM stops it cleanly
    assert [line["call"]["id"] for line in lines if line["op"] == "call"] == [call_id]
    with simulator_process(env=env) as (sim, _):
        assert sim.known(call_id)["status"] == "ended"
    with simulator_process("--fresh", env=env) as (sim, _):
        assert sim.calls() == []
        assert sim.call(call_id).status_code == 404
        assert sim.stats()["callsPlaced"] == 0
