"""``orchestrator up`` and its building blocks.

The end-to-end tests run ``orchestrator up`` the way a user does, as a subprocess, against a
database and a Redis database of their own: a worker sharing the default broker with another
stack (a developer's ``up``, other suites) would take that stack's tasks.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from orchestrator.config import get_settings
from orchestrator.devstack import DevstackInfo, ensure_devstack
from orchestrator.migrate import upgrade_to_head
from orchestrator.runner import (
    StackError,
    StackOptions,
    child_environment,
    ensure_dev_org,
    free_port,
    running_stack,
)
from orchestrator.runner.stack import (
    WEBHOOK_SECRET_FILE,
    simulator_command,
    simulator_state,
    stack_webhook_secret,
)
from orchestrator.simulator.journal import Journal
from tests.support.raw_receiver import raw_receiver

# Named after the test database, so two checkouts testing at once never share it.
RUNNER_DATABASE_SUFFIX = "runner"
RUNNER_REDIS_DB = 13
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 25.0

needs_proc = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="process-tree checks read /proc"
)


def _isolated_urls() -> tuple[str, str]:
    settings = get_settings()
    base, test_database = settings.database_url.rsplit("/", 1)
    database_url = f"{base}/{test_database}_{RUNNER_DATABASE_SUFFIX}"
    redis_url = urlunsplit(urlsplit(settings.redis_url)._replace(path=f"/{RUNNER_REDIS_DB}"))
    return database_url, redis_url


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    database_url, redis_url = _isolated_urls()
    monkeypatch.setenv("ORCH_DATABASE_URL", database_url)
    monkeypatch.setenv("ORCH_REDIS_URL", redis_url)
    return dict(os.environ)


# --------------------------------------------------------------------------- process helpers


def _proc_stat(pid: int) -> list[str] | None:
    """Fields after the command name: state, ppid, pgrp, ...; None once the pid is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        fields = _proc_stat(int(entry.name)) if entry.name.isdigit() else None
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _alive(pid: int) -> bool:
    fields = _proc_stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _lines(stream: IO[str]) -> queue.Queue[str | None]:
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _kill_all(pids: set[int]) -> None:
    """Teardown after a failed test: the processes are ours, started by the ``up`` under test."""
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


# --------------------------------------------------------------------------- `up` end to end


class UpProcess:
    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.api_port = free_port()
        self.simulator_port = free_port(avoid=self.api_port)
        self.log_path = tmp_path / "up-stderr.log"
        self._log = self.log_path.open("w")
        argv = [
            *(sys.executable, "-m", "orchestrator.cli", "up", "--json"),
            *("--profile", "instant", "--workers", "1", "--concurrency", "2"),
            f"--api-port={self.api_port}",
            f"--simulator-port={self.simulator_port}",
            f"--simulator-state-dir={tmp_path / 'simulator'}",
        ]
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=self._log, text=True, env=env
        )
        assert self.process.stdout is not None
        self.stdout = _lines(self.process.stdout)
        self.seen: set[int] = set()

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])

    def first_line(self) -> dict[str, Any]:
        try:
            line = self.stdout.get(timeout=STARTUP_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"no JSON line within {STARTUP_TIMEOUT:.0f} s\n{self.log_tail()}")
        if line is None:
            pytest.fail(f"up exited with {self.process.wait()} before ready\n{self.log_tail()}")
        parsed: dict[str, Any] = json.loads(line)
        return parsed

    def close(self) -> None:
        if self.process.poll() is None:
            self.seen |= _descendants(self.process.pid)
            self.process.kill()
            self.process.wait()
        _kill_all(self.seen)
        self._log.close()


@pytest.fixture
def up(tmp_path: Path, isolated_env: dict[str, str]) -> Iterator[UpProcess]:
    process = UpProcess(tmp_path, isolated_env)
    yield process
    process.close()


@needs_proc
@pytest.mark.timeout(90)
def test_up_serves_the_api_and_sigterm_stops_everything(up: UpProcess) -> None:
    info = up.first_line()
    assert set(info) == {"api", "apiKey", "simulator"}
    assert info["api"] == f"http://127.0.0.1:{up.api_port}"
    assert info["simulator"] == f"http://127.0.0.1:{up.simulator_port}"
    up.seen = _descendants(up.process.pid)
    # simulator, api, beat (+ its Celery), one worker (+ its Celery)
    assert len(up.seen) >= 6

    with httpx.Client(timeout=5.0, trust_env=False) as http:
        assert http.get(f"{info['api']}/healthz").status_code == 200
        assert http.get(f"{info['simulator']}/healthz").status_code == 200
        bad = http.get(f"{info['api']}/campaign", headers={"Authorization": "Bearer orch_nope"})
        assert bad.status_code == 401
        good = http.get(
            f"{info['api']}/campaign", headers={"Authorization": f"Bearer {info['apiKey']}"}
        )
        assert good.status_code == 200, good.text
        assert "results" in good.json()

    up.process.send_signal(signal.SIGTERM)
    assert up.process.wait(timeout=STOP_TIMEOUT) == 0, up.log_tail()
    assert {pid for pid in up.seen if _alive(pid)} == set()
    assert not _accepts(up.api_port)
    assert not _accepts(up.simulator_port)
    assert up.stdout.get(timeout=5) is None, "stdout carries exactly one line"
    assert info["apiKey"] not in up.log_path.read_text()


@needs_proc
@pytest.mark.timeout(90)
def test_a_child_that_dies_stops_the_stack(isolated_env: dict[str, str], tmp_path: Path) -> None:
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        profile="instant",
        concurrency=2,
        simulator_state_dir=str(tmp_path),
    )
    lines: list[tuple[str, str]] = []

    class Collect:
        def emit(self, source: str, line: str) -> None:
            lines.append((source, line))

    with running_stack(options, sink=Collect()) as stack:
        pids = stack.processes.values()
        everything = set(pids).union(*(_descendants(pid) for pid in pids))
        os.kill(stack.processes["api"], signal.SIGKILL)
        with pytest.raises(StackError, match="api exited unexpectedly"):
            stack.wait(poll_interval=0.05)
    assert {pid for pid in everything if _alive(pid)} == set()
    assert ("up", "stopped") in lines


# --------------------------------------------------------------------------- building blocks


def test_options_report_every_problem() -> None:
    problems = StackOptions(
        api_port=9000, simulator_port=9000, workers=0, concurrency=0, profile="slow"
    ).errors()
    assert len(problems) == 4
    assert StackOptions().errors() == []


def test_zero_ports_become_distinct_free_ports() -> None:
    options = StackOptions(api_port=0, simulator_port=0).with_ports()
    assert options.api_port and options.simulator_port
    assert options.api_port != options.simulator_port


def test_children_share_urls_and_one_secret() -> None:
    options = StackOptions(api_port=8100, simulator_port=8300)
    devstack = DevstackInfo("postgresql+psycopg://db/x", "redis://r/0", Path("/tmp/ds"))
    base = {"ORCH_LOG_LEVEL": "DEBUG", "ORCH_PUBLIC_URL": "http://elsewhere", "PATH": "/bin"}
    env = child_environment(options, devstack, webhook_secret="s3cret", base=base)
    assert env["ORCH_PUBLIC_URL"] == "http://127.0.0.1:8100"
    assert env["ORCH_PROVIDER_BASE_URL"] == "http://127.0.0.1:8300"
    assert env["ORCH_WEBHOOK_SECRET"] == "s3cret"
    assert (env["ORCH_DATABASE_URL"], env["ORCH_REDIS_URL"]) == (
        devstack.database_url,
        devstack.redis_url,
    )
    assert env["ORCH_LOG_LEVEL"] == "DEBUG"


def test_dev_org_is_reused_with_a_new_key_each_time(isolated_env: dict[str, str]) -> None:
    info = ensure_devstack()
    upgrade_to_head(info.database_url)
    first_org, first_key = ensure_dev_org(info.database_url, concurrency_limit=7)
    second_org, second_key = ensure_dev_org(info.database_url, concurrency_limit=9)
    assert isinstance(first_org, uuid.UUID)
    assert first_org == second_org
    assert first_key != second_key


# --------------------------------------------------------------------------- simulator faults


def test_options_check_the_fault_spec() -> None:
    assert StackOptions(faults="dup=0.2,drop=0.05,delay=0.5:2").errors() == []
    problems = StackOptions(faults="dup=2,bogus=1").errors()
    assert len(problems) == 1
    assert problems[0].startswith("--faults: ")
    assert "dup=2" in problems[0]
    assert "unknown fault 'bogus'" in problems[0]
    assert "hmac" not in repr(StackOptions(webhook_hmac_secret="hmac-value")).lower()


def test_simulator_gets_the_faults_in_argv_and_the_hmac_secret_in_env() -> None:
    options = StackOptions(simulator_port=8300, faults="drop=0.1", webhook_hmac_secret="k3y")
    argv = simulator_command(options)
    assert "--faults=drop=0.1" in argv
    assert not any("k3y" in arg for arg in argv)
    devstack = DevstackInfo("postgresql+psycopg://db/x", "redis://r/0", Path("/tmp/ds"))
    base = {"ORCH_SIMULATOR_WEBHOOK_HMAC_SECRET": "stale", "PATH": "/bin"}
    env = child_environment(options, devstack, webhook_secret="s", base=base)
    assert env["ORCH_SIMULATOR_WEBHOOK_HMAC_SECRET"] == "k3y"
    # The defaults keep today's behaviour: no faults, unsigned webhooks, whatever is inherited.
    default = StackOptions()
    assert "--faults=" in simulator_command(default)
    env = child_environment(default, devstack, webhook_secret="s", base=base)
    assert env["ORCH_SIMULATOR_WEBHOOK_HMAC_SECRET"] == ""


@pytest.mark.timeout(60)
def test_simulator_child_applies_the_faults_and_signs(tmp_path: Path) -> None:
    options = StackOptions(
        simulator_port=free_port(),
        profile="instant",
        faults="create_timeout=1,timeout_hold=30",
        webhook_hmac_secret="child-secret",
        simulator_state_dir=str(tmp_path / "simulator"),
    )
    devstack = DevstackInfo("postgresql+psycopg://db/x", "redis://r/0", tmp_path)
    # An inherited spec must not win over the options (it would answer 429 instead).
    base = {**os.environ, "ORCH_SIMULATOR_FAULTS": "create_429=1"}
    env = child_environment(options, devstack, webhook_secret="s", base=base)
    process = subprocess.Popen(simulator_command(options), env=env)
    try:
        _wait_healthy(options.simulator_url)
        with raw_receiver() as receiver:
            body = {
                "assistantId": "a",
                "phoneNumberId": "pn-1",
                "customer": {"number": "+15550001234"},
                "assistantOverrides": {"server": receiver.server()},
            }
            with pytest.raises(httpx.TimeoutException):
                httpx.post(
                    f"{options.simulator_url}/call",
                    json=body,
                    headers={"Authorization": "Bearer k"},
                    timeout=0.5,
                    trust_env=False,
                )
            receiver.wait_for(lambda: any(d.step == "report" for d in receiver.deliveries))
            assert all(d.signature_ok("child-secret") for d in receiver.deliveries)
        process.terminate()
        # The held answer ended when the client hung up, so nothing waits out the 30 s hold.
        assert process.wait(timeout=8) is not None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_healthy(base_url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/healthz", timeout=1.0, trust_env=False).is_success:
                return
        time.sleep(0.1)
    pytest.fail(f"{base_url} not healthy within {timeout:.0f} s")


def test_the_simulator_gets_its_state_dir_and_fresh_flag() -> None:
    plain = simulator_command(StackOptions())
    assert not any(arg.startswith("--state-dir") for arg in plain)
    assert "--fresh" not in plain
    argv = simulator_command(StackOptions(simulator_state_dir="/tmp/sim", fresh_simulator=True))
    assert "--state-dir=/tmp/sim" in argv
    assert "--fresh" in argv


def test_the_simulator_gets_its_phone_numbers() -> None:
    assert not any(arg.startswith("--phone-numbers") for arg in simulator_command(StackOptions()))
    options = StackOptions(simulator_phone_numbers="line-1,line-2=+14155550123")
    assert "--phone-numbers=line-1,line-2=+14155550123" in simulator_command(options)
    bad = StackOptions(simulator_phone_numbers="x=12")
    assert any(p.startswith("--simulator-phone-numbers: 'x=12'") for p in bad.errors())


def test_the_stack_webhook_secret_is_made_once_and_kept(tmp_path: Path) -> None:
    first = stack_webhook_secret(tmp_path)
    assert len(first) >= 32
    assert stack_webhook_secret(tmp_path) == first
    assert (tmp_path / WEBHOOK_SECRET_FILE).stat().st_mode & 0o777 == 0o600


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def emit(self, source: str, line: str) -> None:
        self.lines.append(line)


def test_a_state_dir_held_by_another_simulator_is_refused_or_replaced(tmp_path: Path) -> None:
    devstack = DevstackInfo("postgresql+psycopg://db/x", "redis://r/0", tmp_path)
    sink = _Lines()
    with simulator_state(StackOptions(), devstack, sink) as settled:
        assert settled.simulator_state_dir == str(tmp_path / "simulator")
    held = Journal(tmp_path / "simulator")
    try:
        with (
            pytest.raises(StackError, match="in use by another simulator"),
            simulator_state(StackOptions(), devstack, sink),
        ):
            pass
        with simulator_state(StackOptions(private_state_if_busy=True), devstack, sink) as own:
            private = Path(own.simulator_state_dir)
            assert private.is_dir() and private != tmp_path / "simulator"
        assert not private.exists()
        assert any("in use by another simulator" in line for line in sink.lines)
    finally:
        held.close()
