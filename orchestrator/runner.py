"""``orchestrator up``: the whole stack for development, as supervised child processes.

``running_stack`` starts the devstack, migrates, issues a fresh API key for the ``dev`` org and
runs the simulator, the API, Celery workers and beat. Each child leads its own process group:
the ``worker`` and ``beat`` commands run Celery as a grandchild, and signalling the group is
what reaches it. Children share one environment, so the API, the workers and the simulator agree
on URLs and on the per-run webhook secret.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Protocol

import httpx
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from orchestrator.devstack import DevstackError, DevstackInfo, ensure_devstack
from orchestrator.migrate import upgrade_to_head
from orchestrator.orgs.repository import get_org_by_name
from orchestrator.orgs.service import create_org, issue_api_key, set_concurrency_limit
from orchestrator.simulator.outcomes import PROFILES

__all__ = [
    "DEV_ORG_NAME",
    "ConsoleSink",
    "LogSink",
    "StackError",
    "StackInfo",
    "StackOptions",
    "Terminated",
    "child_environment",
    "ensure_dev_org",
    "free_port",
    "handle_termination",
    "hurry_requested",
    "prefix_width",
    "run_up",
    "running_stack",
]

LOOPBACK = "127.0.0.1"
DEV_ORG_NAME = "dev"
RUNNER_SOURCE = "up"
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_GRACE_SECONDS = 10.0
KILL_WAIT_SECONDS = 3.0
TAIL_LINES = 30
# Any constant works; it only has to differ from the keys other code locks on.
DEV_ORG_LOCK_KEY = 0x6F7263_646576
WORKER_READY = re.compile(r"@\S+ ready\.")
# Beat ticks every second; three log lines a second would drown everything else. A tick that
# fails still shows (its "raised" / "failed" line is not matched).
ROUTINE_LINE = re.compile(
    r"Sending due task scheduler-tick|Task scheduler\.tick\[[^\]]*\] (received|succeeded)"
)
FIXED_COLOURS = {"api": "cyan", "sim": "magenta", "beat": "yellow", RUNNER_SOURCE: "bold"}
WORKER_COLOURS = ("green", "blue", "bright_green", "bright_blue", "bright_cyan", "bright_magenta")


class StackError(RuntimeError):
    """The stack could not start, or one of its processes died; ``tail`` is its last output."""

    def __init__(self, message: str, tail: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.tail = tuple(tail)


class Terminated(BaseException):
    """SIGINT or SIGTERM arrived. A BaseException, so ``except Exception`` cannot swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass(frozen=True)
class StackOptions:
    """What ``up`` starts. A port of 0 means any free port on loopback."""

    api_port: int = 8000
    simulator_port: int = 8200
    workers: int = 1
    concurrency: int = 8
    profile: str = "fast"
    seed: int = 0
    simulator_concurrency_limit: int = 50
    org_concurrency_limit: int = 50
    startup_timeout: float = STARTUP_TIMEOUT_SECONDS

    def errors(self) -> list[str]:
        problems = [
            f"{name} must be between 0 and 65535"
            for name, port in (
                ("--api-port", self.api_port),
                ("--simulator-port", self.simulator_port),
            )
            if not 0 <= port <= 65535
        ]
        if self.api_port and self.api_port == self.simulator_port:
            problems.append("--api-port and --simulator-port must differ")
        for name, value in (
            ("--workers", self.workers),
            ("--concurrency", self.concurrency),
            ("--org-concurrency-limit", self.org_concurrency_limit),
        ):
            if value < 1:
                problems.append(f"{name} must be at least 1")
        if self.simulator_concurrency_limit < 0:
            problems.append("--simulator-concurrency-limit must not be negative")
        if self.profile not in PROFILES:
            problems.append(f"--profile must be one of {', '.join(PROFILES)}")
        return problems

    def with_ports(self) -> StackOptions:
        """These options with every 0 port replaced by a free one."""
        api = self.api_port or free_port(avoid=self.simulator_port)
        simulator = self.simulator_port or free_port(avoid=api)
        return replace(self, api_port=api, simulator_port=simulator)

    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.api_port}"

    @property
    def simulator_url(self) -> str:
        return f"http://{LOOPBACK}:{self.simulator_port}"


def free_port(*, avoid: int = 0) -> int:
    """A port nothing listens on right now (another process may still take it before us)."""
    while True:
        with socket.socket() as sock:
            sock.bind((LOOPBACK, 0))
            port = int(sock.getsockname()[1])
        if port != avoid:
            return port


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        # Same flag as uvicorn, so a port with only TIME_WAIT leftovers counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return True
    return False


def prefix_width(options: StackOptions) -> int:
    return max(len(name) for name in ("api", "sim", "beat", f"worker{options.workers}"))


# --------------------------------------------------------------------------- logs


class LogSink(Protocol):
    def emit(self, source: str, line: str) -> None: ...


class ConsoleSink:
    """``api    | line``: one colour per source, written through a (thread-safe) Rich console."""

    def __init__(self, console: Console, *, width: int = 7) -> None:
        self.console = console
        self.width = width

    def emit(self, source: str, line: str) -> None:
        text = Text(f"{source:<{self.width}}| ", style=_colour(source))
        text.append_text(Text.from_ansi(line))
        self.console.print(text, soft_wrap=True, highlight=False)


def _colour(source: str) -> str:
    if source in FIXED_COLOURS:
        return FIXED_COLOURS[source]
    index = source.removeprefix("worker")
    return WORKER_COLOURS[(int(index) - 1) % len(WORKER_COLOURS)] if index.isdigit() else "default"


def _redactor(hidden: Iterable[str]) -> Callable[[str], str]:
    values = [value for value in hidden if value]

    def redact(line: str) -> str:
        for value in values:
            line = line.replace(value, "***")
        return line

    return redact


# --------------------------------------------------------------------------- signals


class _ShutdownState:
    """Process-wide: the first signal raises ``Terminated``; later ones only hurry the stop."""

    def __init__(self) -> None:
        self.stopping = False
        self.hurry = threading.Event()

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping:
            self.hurry.set()
            return
        self.stopping = True
        raise Terminated(signum)


_SHUTDOWN = _ShutdownState()


def hurry_requested() -> bool:
    """Whether a second SIGINT/SIGTERM arrived: whatever is still being tidied up should stop."""
    return _SHUTDOWN.hurry.is_set()


@contextlib.contextmanager
def handle_termination() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into ``Terminated`` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _SHUTDOWN.stopping = False
    _SHUTDOWN.hurry.clear()
    previous = {
        sig: signal.signal(sig, _SHUTDOWN.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# --------------------------------------------------------------------------- processes


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


# --------------------------------------------------------------------------- the stack


@dataclass(frozen=True)
class StackInfo:
    """A running stack. ``processes`` maps each child's name to its pid (and process group)."""

    api_url: str
    simulator_url: str
    api_key: str = field(repr=False)
    org_id: uuid.UUID
    processes: Mapping[str, int]
    _supervisor: _Supervisor = field(repr=False, compare=False)

    def raise_if_failed(self) -> None:
        """Raise ``StackError`` if any child has exited (none of them should while running)."""
        self._supervisor.raise_if_exited()

    def wait(self, poll_interval: float = 0.25) -> None:
        """Block until a child exits (raises ``StackError``) or a signal interrupts."""
        while True:
            self.raise_if_failed()
            time.sleep(poll_interval)


def child_environment(
    options: StackOptions,
    devstack: DevstackInfo,
    *,
    webhook_secret: str,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment every child gets: the caller's, with the settings they must agree on."""
    env = dict(os.environ if base is None else base)
    env.update(
        ORCH_PUBLIC_URL=options.api_url,
        ORCH_PROVIDER_BASE_URL=options.simulator_url,
        ORCH_WEBHOOK_SECRET=webhook_secret,
        ORCH_DATABASE_URL=devstack.database_url,
        ORCH_REDIS_URL=devstack.redis_url,
        PYTHONUNBUFFERED="1",
    )
    return env


def ensure_dev_org(database_url: str, *, concurrency_limit: int) -> tuple[uuid.UUID, str]:
    """Create the ``dev`` org or reuse it (setting its limit); issue a new API key for it."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with Session(engine) as session, session.begin():
            # Two `up`s on a fresh database would otherwise both create a "dev" org.
            session.execute(select(func.pg_advisory_xact_lock(DEV_ORG_LOCK_KEY)))
            org = get_org_by_name(session, name=DEV_ORG_NAME)
            if org is None:
                created = create_org(
                    session, name=DEV_ORG_NAME, concurrency_limit=concurrency_limit
                )
                return created.org_id, created.api_key
            set_concurrency_limit(session, org_id=org.id, concurrency_limit=concurrency_limit)
            return org.id, issue_api_key(session, org_id=org.id)
    finally:
        engine.dispose()


def _orchestrator(*args: str) -> list[str]:
    # The running interpreter, not whatever `orchestrator` is first on PATH.
    return [sys.executable, "-m", "orchestrator.cli", *args]


def _prepare(options: StackOptions, sink: LogSink) -> DevstackInfo:
    problems = options.errors()
    busy = [port for port in (options.api_port, options.simulator_port) if _port_in_use(port)]
    problems += [f"port {port} is already in use (another `orchestrator up`?)" for port in busy]
    if problems:
        raise StackError("; ".join(problems))
    try:
        devstack = ensure_devstack()
    except DevstackError as exc:
        raise StackError(f"devstack failed: {exc}") from exc
    for action in devstack.actions:
        sink.emit(RUNNER_SOURCE, action)
    try:
        upgrade_to_head(devstack.database_url)
    except Exception as exc:
        raise StackError(f"database migrations failed: {exc}") from exc
    sink.emit(RUNNER_SOURCE, "database is at the latest migration")
    return devstack


def _spawn_all(supervisor: _Supervisor, options: StackOptions) -> dict[str, Callable[[], bool]]:
    """Start every child; return how to tell that each part is ready."""
    supervisor.spawn(
        "sim",
        _orchestrator(
            "simulator",
            f"--port={options.simulator_port}",
            f"--profile={options.profile}",
            f"--seed={options.seed}",
            f"--concurrency-limit={options.simulator_concurrency_limit}",
        ),
    )
    supervisor.spawn("api", _orchestrator("api", f"--port={options.api_port}"))
    checks = {
        "simulator": lambda: _healthy(options.simulator_url),
        "api": lambda: _healthy(options.api_url),
    }
    for index in range(1, options.workers + 1):
        worker = supervisor.spawn(
            f"worker{index}",
            _orchestrator(
                "worker", f"--concurrency={options.concurrency}", f"--hostname=worker{index}@%h"
            ),
            ready_pattern=WORKER_READY.pattern,
        )
        checks[f"worker{index}"] = worker.ready.is_set
    supervisor.spawn("beat", _orchestrator("beat"))
    return checks


def _healthy(base_url: str) -> bool:
    try:
        response = httpx.get(f"{base_url}/healthz", timeout=1.0, trust_env=False)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _wait_until_ready(
    supervisor: _Supervisor, checks: Mapping[str, Callable[[], bool]], timeout: float
) -> None:
    pending = dict(checks)
    deadline = time.monotonic() + timeout
    while True:
        supervisor.raise_if_exited()
        for name, check in list(pending.items()):
            if check():
                del pending[name]
                supervisor.sink.emit(RUNNER_SOURCE, f"{name} is ready")
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise StackError(f"not ready after {timeout:.0f} s: {', '.join(pending)}")
        time.sleep(0.1)


@contextlib.contextmanager
def running_stack(options: StackOptions, *, sink: LogSink | None = None) -> Iterator[StackInfo]:
    """Run the whole stack until the ``with`` block ends; everything started is stopped after.

    Raises ``StackError`` if it cannot start. Inside the block, a child that dies is reported
    by ``StackInfo.raise_if_failed`` / ``wait``.
    """
    options = options.with_ports()
    sink = sink or ConsoleSink(Console(stderr=True), width=prefix_width(options))
    devstack = _prepare(options, sink)
    try:
        org_id, api_key = ensure_dev_org(
            devstack.database_url, concurrency_limit=options.org_concurrency_limit
        )
    except Exception as exc:
        raise StackError(f'could not set up the "{DEV_ORG_NAME}" org: {exc}') from exc
    sink.emit(
        RUNNER_SOURCE,
        f'org "{DEV_ORG_NAME}" ({org_id}): concurrency limit {options.org_concurrency_limit}, '
        "new API key issued",
    )
    webhook_secret = secrets.token_urlsafe(32)
    env = child_environment(options, devstack, webhook_secret=webhook_secret)
    supervisor = _Supervisor(env, sink, _redactor((api_key, webhook_secret)))
    _SHUTDOWN.stopping = False
    try:
        checks = _spawn_all(supervisor, options)
        _wait_until_ready(supervisor, checks, options.startup_timeout)
        yield StackInfo(
            api_url=options.api_url,
            simulator_url=options.simulator_url,
            api_key=api_key,
            org_id=org_id,
            processes={child.name: child.process.pid for child in supervisor.children},
            _supervisor=supervisor,
        )
    finally:
        supervisor.stop()


# --------------------------------------------------------------------------- the command


def _announce(stack: StackInfo, options: StackOptions, console: Console, as_json: bool) -> None:
    if as_json:
        line = {"api": stack.api_url, "apiKey": stack.api_key, "simulator": stack.simulator_url}
        print(json.dumps(line), flush=True)
        return
    rows: list[tuple[str, str]] = [
        ("API", f"{stack.api_url}   (OpenAPI docs: {stack.api_url}/docs)"),
        ("simulator", f"{stack.simulator_url}   (profile {options.profile}, seed {options.seed})"),
        ("workers", f"{options.workers} x {options.concurrency} threads, plus beat"),
        ("API key", f'{stack.api_key}   (org "{DEV_ORG_NAME}"; a new key every run)'),
    ]
    console.print()
    console.print("[bold green]orchestrator is up[/bold green]")
    for label, value in rows:
        console.print(f"  [bold]{label:<10}[/bold] {escape(value)}", soft_wrap=True)
    console.print("  Ctrl-C stops everything.")
    console.print()


def run_up(options: StackOptions, *, as_json: bool = False) -> int:
    """The ``up`` command: run until Ctrl-C / SIGTERM (exit 0) or until a child dies (exit 1).

    With ``as_json`` stdout carries exactly one JSON line and every log goes to stderr.
    """
    console = Console(stderr=as_json, highlight=False)
    options = options.with_ports()
    sink = ConsoleSink(console, width=prefix_width(options))
    try:
        with handle_termination(), running_stack(options, sink=sink) as stack:
            _announce(stack, options, console, as_json)
            stack.wait()
    except Terminated:
        return 0
    except StackError as exc:
        console.print(f"[red]up failed:[/red] {escape(str(exc))}", soft_wrap=True)
        return 1
    return 0
