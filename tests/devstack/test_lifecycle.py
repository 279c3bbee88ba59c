"""The devstack against real Postgres and Redis processes.

These tests use the shared default devstack (fixed ports) and always leave it running, because
the rest of the suite, and other people's shells, rely on it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from typer.testing import CliRunner

from orchestrator.config import DEVSTACK_PG_PORT, DEVSTACK_REDIS_PORT
from orchestrator.devstack import (
    DevstackInfo,
    devstack_app,
    devstack_status,
    ensure_devstack,
    stop_devstack,
    to_libpq_url,
)


@pytest.fixture(autouse=True)
def _devstack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests are about the devstack itself, so an outer override must not redirect them.
    monkeypatch.delenv("ORCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("ORCH_REDIS_URL", raising=False)
    # Pin the root so running pytest from another directory still restarts the same cluster
    # instead of initialising a second one next to wherever pytest was launched.
    if "ORCH_DEVSTACK_DIR" not in os.environ:
        monkeypatch.setenv(
            "ORCH_DEVSTACK_DIR", str(Path(__file__).resolve().parents[1] / ".devstack")
        )


@pytest.fixture
def devstack() -> Iterator[DevstackInfo]:
    info = ensure_devstack()
    yield info
    # Whatever a test did, hand the stack back running.
    ensure_devstack()


def test_ensure_is_idempotent_when_running(devstack: DevstackInfo) -> None:
    again = ensure_devstack()

    assert all("already running" in action for action in again.actions)
    assert (again.database_url, again.redis_url) == (devstack.database_url, devstack.redis_url)
    assert f"127.0.0.1:{DEVSTACK_PG_PORT}" in again.database_url
    assert f"127.0.0.1:{DEVSTACK_REDIS_PORT}" in again.redis_url
    assert all("already running" in action for action in again.actions)


def test_postgres_accepts_connections(devstack: DevstackInfo) -> None:
    with psycopg.connect(to_libpq_url(devstack.database_url)) as conn:
        row = conn.execute("select 1, current_user, current_database()").fetchone()
        fsync = conn.execute("show fsync").fetchone()

    assert row == (1, "orchestrator", "orchestrator")
    assert fsync == ("off",)


def test_redis_answers_ping(devstack: DevstackInfo) -> None:
    client = redis.Redis.from_url(devstack.redis_url)
    try:
        assert client.ping()
    finally:
        client.close()


def test_status_reports_both_up(devstack: DevstackInfo) -> None:
    assert devstack_status() == {"postgres": True, "redis": True}

    result = CliRunner().invoke(devstack_app, ["status"])
    assert result.exit_code == 0, result.output


def test_env_command_prints_export_lines(devstack: DevstackInfo) -> None:
    result = CliRunner().invoke(devstack_app, ["env"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"export ORCH_DATABASE_URL={devstack.database_url}" in lines
    assert f"export ORCH_REDIS_URL={devstack.redis_url}" in lines


def test_external_urls_are_returned_untouched(
    devstack: DevstackInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    external_db = "postgresql+psycopg://app:secret@db.invalid:5432/app"
    external_redis = "redis://cache.invalid:6379/2"
    monkeypatch.setenv("ORCH_DATABASE_URL", external_db)
    monkeypatch.setenv("ORCH_REDIS_URL", external_redis)

    info = ensure_devstack()

    assert (info.database_url, info.redis_url) == (external_db, external_redis)
    assert not any("started" in action or "secret" in action for action in info.actions)


@pytest.fixture
def private_devstack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A second devstack on spare ports in its own root, so stopping it disturbs nobody."""
    from orchestrator.devstack import common, paths, postgres, redis_server

    pg_port, redis_port = _free_port(), _free_port()
    # Each submodule binds these names at import time, so patch every module that reads them.
    for module in (common, paths, postgres):
        monkeypatch.setattr(module, "DEVSTACK_PG_PORT", pg_port)
    for module in (common, redis_server):
        monkeypatch.setattr(module, "DEVSTACK_REDIS_PORT", redis_port)
    monkeypatch.setattr(
        common,
        "DEFAULT_DATABASE_URL",
        f"postgresql+psycopg://orchestrator@127.0.0.1:{pg_port}/orchestrator",
    )
    for module in (common, redis_server):
        monkeypatch.setattr(module, "DEFAULT_REDIS_URL", f"redis://127.0.0.1:{redis_port}/0")
    root = tmp_path / "stack"
    monkeypatch.setenv("ORCH_DEVSTACK_DIR", str(root))
    yield root
    stop_devstack(root)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_up_down_up_cycle(private_devstack: Path) -> None:
    first = CliRunner().invoke(devstack_app, ["up"])
    assert first.exit_code == 0, first.output
    assert "started Postgres" in first.output
    assert "started Redis" in first.output
    assert devstack_status(private_devstack) == {"postgres": True, "redis": True}

    stop_devstack(private_devstack)
    assert devstack_status(private_devstack) == {"postgres": False, "redis": False}
    assert CliRunner().invoke(devstack_app, ["status"]).exit_code == 1

    again = CliRunner().invoke(devstack_app, ["up"])
    assert again.exit_code == 0, again.output
    assert devstack_status(private_devstack) == {"postgres": True, "redis": True}
