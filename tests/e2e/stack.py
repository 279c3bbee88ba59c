"""A whole stack in real processes: API, Celery worker(s), beat and the provider simulator."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from orchestrator.config import get_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    api_url: str
    simulator_url: str
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def logs(self) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()[-40:]
            parts.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(parts)


def _spawn(
    name: str, args: list[str], env: dict[str, str], log_dir: Path
) -> subprocess.Popen[bytes]:
    log = (log_dir / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not become healthy")


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def running_stack(
    log_dir: Path,
    *,
    profile: str = "fast",
    seed: int = 7,
    simulator_concurrency: int = 100,
    workers: int = 1,
    worker_concurrency: int = 8,
) -> Iterator[Stack]:
    settings = get_settings()
    api_port, sim_port = free_port(), free_port()
    stack = Stack(f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sim_port}", log_dir)
    redis.Redis.from_url(settings.redis_url).flushdb()
    env = {
        **os.environ,
        "ORCH_PUBLIC_URL": stack.api_url,
        "ORCH_PROVIDER_BASE_URL": stack.simulator_url,
        "ORCH_LOG_LEVEL": "INFO",
    }
    procs = stack.processes
    try:
        procs["simulator"] = _spawn(
            "simulator",
            [
                "simulator",
                f"--port={sim_port}",
                f"--profile={profile}",
                f"--seed={seed}",
                f"--concurrency-limit={simulator_concurrency}",
            ],
            env,
            log_dir,
        )
        procs["api"] = _spawn("api", ["api", f"--port={api_port}"], env, log_dir)
        for index in range(workers):
            procs[f"worker{index}"] = _spawn(
                f"worker{index}",
                ["worker", f"--concurrency={worker_concurrency}", f"--hostname=w{index}@%h"],
                env,
                log_dir,
            )
        procs["beat"] = _spawn(
            "beat", ["beat", f"--schedule={log_dir / 'beat-schedule'}"], env, log_dir
        )
        _wait_healthy(stack.simulator_url, procs["simulator"])
        _wait_healthy(stack.api_url, procs["api"])
        yield stack
    finally:
        _stop(procs)
