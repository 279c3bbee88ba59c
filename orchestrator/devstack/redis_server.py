"""The devstack's Redis: finding redis-server, starting it daemonized, shutting it down."""

from __future__ import annotations

import contextlib
from pathlib import Path

import redis

from orchestrator.config import DEVSTACK_REDIS_PORT
from orchestrator.devstack.common import (
    DEFAULT_REDIS_URL,
    LOOPBACK,
    DevstackError,
    _port_open,
    _run,
    _tail,
    _wait_for,
    _which,
)
from orchestrator.devstack.install import _apt_install
from orchestrator.devstack.paths import _Paths


def find_redis_server() -> Path | None:
    found = _which("redis-server")
    return Path(found) if found else None


def _redis_ok(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _start_redis_server(paths: _Paths) -> str:
    server = find_redis_server()
    if server is None:
        _apt_install("redis-server", "redis-server", "ORCH_REDIS_URL")
        server = find_redis_server()
    if server is None:
        raise DevstackError("redis-server still not found after installing it.")
    paths.redis_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(server),
        "--bind",
        LOOPBACK,
        "--port",
        str(DEVSTACK_REDIS_PORT),
        "--daemonize",
        "yes",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(paths.redis_dir),
        "--pidfile",
        str(paths.redis_pidfile),
        "--logfile",
        str(paths.redis_log),
    ]
    _run(cmd, "redis-server", cwd=paths.root)
    if not _wait_for(lambda: _redis_ok(DEFAULT_REDIS_URL), 15):
        raise DevstackError(
            f"Redis did not answer PING\n--- {paths.redis_log} ---\n{_tail(paths.redis_log)}"
        )
    return f"started Redis on {LOOPBACK}:{DEVSTACK_REDIS_PORT} (log: {paths.redis_log})"


def _ensure_redis(paths: _Paths) -> str:
    if _redis_ok(DEFAULT_REDIS_URL):
        return f"Redis already running on {LOOPBACK}:{DEVSTACK_REDIS_PORT}"
    if _port_open(DEVSTACK_REDIS_PORT):
        raise DevstackError(
            f"port {DEVSTACK_REDIS_PORT} is in use, but not by a Redis that answers PING."
        )
    return _start_redis_server(paths)


def _stop_redis(paths: _Paths) -> str:
    if not _redis_ok(DEFAULT_REDIS_URL):
        return "Redis: not running"
    client = redis.Redis.from_url(DEFAULT_REDIS_URL, socket_connect_timeout=1, socket_timeout=5)
    with contextlib.suppress(redis.RedisError):
        client.shutdown(nosave=True)
    client.close()
    if _wait_for(lambda: not _port_open(DEVSTACK_REDIS_PORT), 10):
        return "Redis: stopped"
    raise DevstackError(
        f"Redis on port {DEVSTACK_REDIS_PORT} did not shut down; see "
        f"{paths.redis_log} and {paths.redis_pidfile}"
    )
