"""The whole stack: devstack, migrations, the ``dev`` org, the children, and ``run_up``."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
from rich.console import Console
from rich.markup import escape
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from orchestrator.config import DEVELOPMENT
from orchestrator.devstack import DevstackError, DevstackInfo, ensure_devstack
from orchestrator.enqueue import OUTBOUND_QUEUE
from orchestrator.migrate import upgrade_to_head
from orchestrator.orgs.repository import get_org_by_name
from orchestrator.orgs.service import create_org, issue_api_key, set_concurrency_limit
from orchestrator.runner.logs import RUNNER_SOURCE, ConsoleSink, LogSink, _redactor, prefix_width
from orchestrator.runner.options import StackOptions, _port_in_use
from orchestrator.runner.shutdown import _SHUTDOWN, Terminated, handle_termination
from orchestrator.runner.supervisor import StackError, _Supervisor
from orchestrator.simulator import state_dir_in_use

DEV_ORG_NAME = "dev"
# The stack's webhook secret, kept in the devstack: the calls of an earlier run still carry it,
# so their webhooks are accepted by the next run.
WEBHOOK_SECRET_FILE = "webhook-secret"  # noqa: S105 - a file name, not a secret
SIMULATOR_STATE_DIR = "simulator"


# Any constant works; it only has to differ from the keys other code locks on.
DEV_ORG_LOCK_KEY = 0x6F7263_646576
WORKER_READY = re.compile(r"@\S+ ready\.")


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
        # The stack runs the simulator as its provider, with a secret made for this run.
        ORCH_ENV=DEVELOPMENT,
        ORCH_PUBLIC_URL=options.api_url,
        ORCH_PROVIDER_BASE_URL=options.simulator_url,
        ORCH_WEBHOOK_SECRET=webhook_secret,
        ORCH_DATABASE_URL=devstack.database_url,
        ORCH_REDIS_URL=devstack.redis_url,
        # Through the environment, not argv, so the secret never shows in a process listing;
        # always set, so an inherited value cannot differ from the options.
        ORCH_SIMULATOR_WEBHOOK_HMAC_SECRET=options.webhook_hmac_secret,
        # Development: the user's servers (pre-dial, events out) are on this machine.
        ORCH_ALLOW_PRIVATE_SERVER_URLS=env.get("ORCH_ALLOW_PRIVATE_SERVER_URLS", "true"),
        PYTHONUNBUFFERED="1",
    )
    return env


def simulator_command(options: StackOptions) -> list[str]:
    """The simulator child's argv (its HMAC secret comes through ``child_environment``)."""
    argv = _orchestrator(
        "simulator",
        f"--port={options.simulator_port}",
        f"--profile={options.profile}",
        f"--seed={options.seed}",
        f"--concurrency-limit={options.simulator_concurrency_limit}",
        # Always passed, even empty, so an inherited ORCH_SIMULATOR_FAULTS cannot add faults.
        f"--faults={options.faults}",
    )
    if options.simulator_state_dir:
        argv.append(f"--state-dir={options.simulator_state_dir}")
    if options.fresh_simulator:
        argv.append("--fresh")
    if options.simulator_phone_numbers:
        argv.append(f"--phone-numbers={options.simulator_phone_numbers}")
    return argv


def stack_webhook_secret(root: Path) -> str:
    """The devstack's webhook secret, made on first use (readable by its owner only)."""
    path = root / WEBHOOK_SECRET_FILE
    with contextlib.suppress(FileExistsError):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(32))
    secret = path.read_text().strip()
    if not secret:
        raise StackError(f"{path} is empty: delete it and a new secret is made")
    return secret


@contextlib.contextmanager
def simulator_state(
    options: StackOptions, devstack: DevstackInfo, sink: LogSink
) -> Iterator[StackOptions]:
    """The options with the simulator's state directory settled (a temporary one is removed
    at the end)."""
    state = Path(options.simulator_state_dir or devstack.root / SIMULATOR_STATE_DIR)
    if not state_dir_in_use(state):
        yield replace(options, simulator_state_dir=str(state))
        return
    if not options.private_state_if_busy:
        raise StackError(
            f"the simulator state directory {state} is in use by another simulator (another "
            "`orchestrator up`?): stop it, or give this one --simulator-state-dir"
        )
    private = Path(tempfile.mkdtemp(prefix="orchestrator-simulator-"))
    sink.emit(RUNNER_SOURCE, f"{state} is in use by another simulator: this one keeps {private}")
    try:
        yield replace(options, simulator_state_dir=str(private))
    finally:
        shutil.rmtree(private, ignore_errors=True)


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
    supervisor.spawn("sim", simulator_command(options))
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
    outbound = supervisor.spawn(
        "outbound",
        _orchestrator(
            "worker",
            f"--queues={OUTBOUND_QUEUE}",
            f"--concurrency={options.outbound_concurrency}",
            "--hostname=outbound@%h",
        ),
        ready_pattern=WORKER_READY.pattern,
    )
    checks["outbound"] = outbound.ready.is_set
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
    # With signed webhooks the simulator's key is the stack's webhook secret, so the API
    # accepts them in every auth mode (ORCH_WEBHOOK_AUTH_MODE=hmac verifies with that secret).
    webhook_secret = options.webhook_hmac_secret or stack_webhook_secret(devstack.root)
    env = child_environment(options, devstack, webhook_secret=webhook_secret)
    with (
        simulator_state(options, devstack, sink) as settled,
        _supervised(settled, sink, env, (api_key, webhook_secret), org_id, api_key) as stack,
    ):
        yield stack


@contextlib.contextmanager
def _supervised(
    options: StackOptions,
    sink: LogSink,
    env: dict[str, str],
    secrets_to_hide: tuple[str, ...],
    org_id: uuid.UUID,
    api_key: str,
) -> Iterator[StackInfo]:
    supervisor = _Supervisor(env, sink, _redactor(secrets_to_hide))
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
    simulated = f"profile {options.profile}, seed {options.seed}"
    if options.faults:
        simulated += f", faults {options.faults}"
    if options.webhook_hmac_secret:
        simulated += ", signed webhooks"
    rows: list[tuple[str, str]] = [
        ("API", f"{stack.api_url}   (OpenAPI docs: {stack.api_url}/docs)"),
        ("simulator", f"{stack.simulator_url}   ({simulated})"),
        (
            "workers",
            f"{options.workers} x {options.concurrency} threads, plus beat, plus "
            f"{options.outbound_concurrency} threads for users' servers",
        ),
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
