"""``simulator_cpu_per_call``: the simulator's own CPU per call it places, webhooks included.

The simulator runs as ``orchestrator simulator --profile=instant`` does, in a process of its own
on a fresh state dir (so its journal is written), with a limit that never binds. ``CALLS``
calls are posted at ``RATE`` calls per second by ``SENDERS`` keep-alive clients, as the
orchestrator's workers post them (bearer key, ``assistantId``, ``phoneNumberId`` over
``PHONES`` numbers, ``customer.number``, the webhook ``server`` with its secret header). A
receiver in this process answers every webhook 200 at once and counts them; the run ends when
every call's end-of-call-report (its last message) has arrived. The figure is the simulator
process's user plus system CPU time (children included) from just before the first call to
that moment, divided by the calls.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import httpx
import orjson
import psutil

CALLS = 5_000
RATE = 300.0
SENDERS = 32
PHONES = 10
API_KEY = "bench-simulator-key"
WEBHOOK_AUTH_HEADER = "x-vapi-secret"
START_TIMEOUT_SECONDS = 30.0
# How long the last call's webhooks may take after it was posted.
DRAIN_TIMEOUT_SECONDS = 60.0
ROOT = Path(__file__).resolve().parents[2]

_ANSWER = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"


@dataclass
class _Tally:
    """What the receiver has seen: every message, and the calls whose report arrived."""

    messages: int = 0
    reported: set[str] = field(default_factory=set)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = CALLS

    def take(self, body: bytes) -> None:
        self.messages += 1
        message = orjson.loads(body)["message"]
        if message["type"] == "end-of-call-report":
            self.reported.add(message["call"]["id"])
            if len(self.reported) >= self.expected:
                self.done.set()


class _Receiver(asyncio.Protocol):
    """A bare HTTP/1.1 keep-alive endpoint answering every POST 200 with no body: the cheapest
    webhook target, so the run measures the simulator rather than the receiver."""

    def __init__(self, tally: _Tally) -> None:
        self._tally = tally
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without deriving from it.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            length = _content_length(self._buffer[:end])
            if len(self._buffer) < end + 4 + length:
                return
            body = self._buffer[end + 4 : end + 4 + length]
            self._buffer = self._buffer[end + 4 + length :]
            self._tally.take(body)
            assert self._transport is not None
            self._transport.write(_ANSWER)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _simulator(port: int, state_dir: str) -> Iterator[psutil.Process]:
    argv = [
        sys.executable,
        "-m",
        "orchestrator.cli",
        "simulator",
        f"--port={port}",
        "--profile=instant",
        "--fresh",
        f"--state-dir={state_dir}",
        "--concurrency-limit=100000",
        "--faults=",
    ]
    env = {**os.environ, "ORCH_ENV": "development", "PYTHONPATH": str(ROOT)}
    env.pop("ORCH_SIMULATOR_WEBHOOK_HMAC_SECRET", None)
    child = subprocess.Popen(argv, env=env, cwd=ROOT)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", child)
        yield psutil.Process(child.pid)
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _wait_healthy(url: str, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"the simulator exited with {child.returncode} before serving")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the simulator did not answer {url} within {START_TIMEOUT_SECONDS}s")


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def _call_body(index: int, webhook_url: str) -> bytes:
    return orjson.dumps(
        {
            "assistantId": "bench-assistant",
            "phoneNumberId": f"bench-line-{index % PHONES}",
            "customer": {"number": f"+1555{index:07d}"},
            "assistantOverrides": {
                "metadata": {"contactId": f"contact-{index}"},
                "server": {"url": webhook_url, "headers": {WEBHOOK_AUTH_HEADER: "bench"}},
            },
        }
    )


async def _post_calls(base_url: str, webhook_url: str, calls: int, rate: float) -> None:
    """Post ``calls`` calls at ``rate`` a second from ``SENDERS`` clients."""
    indexes = iter(range(calls))
    start = time.monotonic()
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

    async def sender() -> None:
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30.0) as client:
            for index in indexes:
                if (wait := start + index / rate - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                response = await client.post("/call", content=_call_body(index, webhook_url))
                if response.status_code != 201:
                    raise RuntimeError(f"POST /call answered {response.status_code}")

    await asyncio.gather(*(sender() for _ in range(SENDERS)))


async def _measure(calls: int, rate: float) -> str:
    tally = _Tally(expected=calls)
    loop = asyncio.get_running_loop()
    receiver = await loop.create_server(lambda: _Receiver(tally), "127.0.0.1", 0)
    webhook_url = f"http://127.0.0.1:{receiver.sockets[0].getsockname()[1]}/webhooks/vapi"
    port = _free_port()
    with tempfile.TemporaryDirectory() as state_dir, _simulator(port, state_dir) as process:
        before = _cpu_seconds(process)
        await _post_calls(f"http://127.0.0.1:{port}", webhook_url, calls, rate)
        await asyncio.wait_for(tally.done.wait(), DRAIN_TIMEOUT_SECONDS)
        spent = _cpu_seconds(process) - before
    receiver.close()
    return format_line(spent / calls * 1000, calls, tally.messages)


def format_line(ms_per_call: float, calls: int, webhooks: int) -> str:
    figures = f"{ms_per_call:.2f} ms per call ({calls} calls, {webhooks} webhooks)"
    return f"simulator_cpu_per_call: {figures}"


def run(calls: int = CALLS, rate: float = RATE) -> str:
    return asyncio.run(_measure(calls, rate))


if __name__ == "__main__":
    arguments = sys.argv[1:]
    print(
        run(
            int(arguments[0]) if arguments else CALLS,
            float(arguments[1]) if arguments[1:] else RATE,
        )
    )
