"""Shared pieces of the benchmarks: a fresh migrated database and a real API process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from orchestrator.config import DEVELOPMENT, get_settings
from orchestrator.devstack import ensure_devstack
from orchestrator.migrate import upgrade_to_head

# Benchmarks run the stack against the devstack and the simulator, with development's defaults.
os.environ["ORCH_ENV"] = DEVELOPMENT

BENCH_DATABASE = "orchestrator_bench"


def database_url_for(database: str) -> str:
    """The URL of another database on the server the settings point at."""
    base = os.environ.get("ORCH_DATABASE_URL", get_settings().database_url)
    return base.rsplit("/", 1)[0] + f"/{database}"


def prepare_bench_database() -> str:
    """Point every component at an empty, migrated ``orchestrator_bench`` database."""
    url = prepare_database(BENCH_DATABASE)
    checkpoint(url)
    return url


def prepare_database(database: str) -> str:
    """Point every component at ``database`` on the same server, emptied and migrated."""
    url = database_url_for(database)
    os.environ["ORCH_DATABASE_URL"] = url
    get_settings.cache_clear()
    ensure_devstack()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade_to_head(url)
    return url


def checkpoint(url: str) -> None:
    """Write out what an earlier benchmark left dirty (a million rows, say), so the server's
    background writing of it does not run into this one (needs a superuser or pg_checkpoint,
    as the devstack's role is; elsewhere it is skipped)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))
    except DBAPIError:
        pass
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def api_process() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", "api", f"--port={port}"],
        env={**os.environ, "ORCH_LOG_LEVEL": "WARNING"},
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)


@contextmanager
def worker_process(*, concurrency: int = 4) -> Iterator[None]:
    """One Celery worker process of the orchestrator, answering pings before this yields."""
    from workers.celery_app import celery_app

    name = f"bench-{os.getpid()}"
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestrator.cli",
            "worker",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            f"--hostname={name}@%h",
        ],
        env={**os.environ, "ORCH_LOG_LEVEL": "WARNING"},
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not any(
            host.startswith(f"{name}@")
            for reply in celery_app.control.ping(timeout=0.5) or []
            for host in reply
        ):
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"the bench's worker did not start:\n{log.read()[-4000:]!r}")
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
