"""The child processes: spawning them, pumping their output, stopping their process groups."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.runner.logs import RUNNER_SOURCE, LogSink
from orchestrator.runner.shutdown import _SHUTDOWN

STOP_GRACE_SECONDS = 10.0
KILL_WAIT_SECONDS = 3.0
TAIL_LINES = 30


# Beat ticks every second; three log lines a second would drown everything else. A tick that
# fails still shows (its "raised" / "failed" line is not matched).
ROUTINE_LINE = re.compile(
    r"Sending due task scheduler-tick|Task scheduler\.tick\[[^\]]*\] (received|succeeded)"
)


class StackError(RuntimeError):
    """The stack could not start, or one of its processes died; ``tail`` is its last output."""

    def __init__(self, message: str, tail: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.tail = tuple(tail)


@dataclass(eq=False)
class _Child:
    name: str
    process: subprocess.Popen[str]
    ready_pattern: re.Pattern[str] | None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    ready: threading.Event = field(default_factory=threading.Event)
    reader: threading.Thread | None = None


class _Supervisor:
    """Owns the children: spawns them, pumps their output into the sink, stops them."""

    def __init__(self, env: Mapping[str, str], sink: LogSink, redact: Callable[[str], str]):
        self.env = dict(env)
        self.sink = sink
        self.redact = redact
        self.children: list[_Child] = []

    def spawn(self, name: str, argv: list[str], ready_pattern: str | None = None) -> _Child:
        process = subprocess.Popen(
            argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
        pattern = re.compile(ready_pattern) if ready_pattern else None
        child = _Child(name, process, pattern)
        self.children.append(child)
        child.reader = threading.Thread(target=self._pump, args=(child,), daemon=True)
        child.reader.start()
        return child

    def _pump(self, child: _Child) -> None:
        assert child.process.stdout is not None
        for raw in child.process.stdout:
            line = self.redact(raw.rstrip("\r\n"))
            if ROUTINE_LINE.search(line):
                continue
            child.tail.append(line)
            if child.ready_pattern is not None and child.ready_pattern.search(line):
                child.ready.set()
            self.sink.emit(child.name, line)

    def raise_if_exited(self) -> None:
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                how = f"killed by {_signal_name(-code)}" if code < 0 else f"exit code {code}"
                raise StackError(f"{child.name} exited unexpectedly ({how})", child.tail)

    def stop(self) -> None:
        _SHUTDOWN.stopping = True
        if not self.children:
            return
        self.sink.emit(RUNNER_SOURCE, "stopping everything")
        self._signal_live(signal.SIGTERM)
        if not self._wait_gone(STOP_GRACE_SECONDS):
            self.sink.emit(RUNNER_SOURCE, "some processes did not stop in time; killing them")
            self._signal_live(signal.SIGKILL)
            self._wait_gone(KILL_WAIT_SECONDS, hurry=False)
        for child in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=1)
            if child.reader is not None:
                child.reader.join(timeout=1)
        self.sink.emit(RUNNER_SOURCE, "stopped")

    def _live_groups(self) -> set[int]:
        for child in self.children:
            child.process.poll()  # reap the leader, so it does not linger as a zombie
        return _live_groups({child.process.pid for child in self.children})

    def _signal_live(self, sig: signal.Signals) -> None:
        for pgid in self._live_groups():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)

    def _wait_gone(self, timeout: float, *, hurry: bool = True) -> bool:
        deadline = time.monotonic() + timeout
        while self._live_groups():
            if time.monotonic() >= deadline or (hurry and _SHUTDOWN.hurry.is_set()):
                return False
            time.sleep(0.05)
        return True


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _live_groups(pgids: set[int]) -> set[int]:
    """Those process groups with a member that is neither a zombie nor dead.

    Grandchildren orphaned by their leader are reparented to an init that may never reap them;
    ``killpg(pgid, 0)`` would count such zombies as alive, so /proc is read where it exists.
    """
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return {pgid for pgid in pgids if _group_exists(pgid)}
    live: set[int] = set()
    for stat_path in proc.glob("[0-9]*/stat"):
        try:
            fields = stat_path.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[0] not in ("Z", "X") and int(fields[2]) in pgids:
            live.add(int(fields[2]))
    return live


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
