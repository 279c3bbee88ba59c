"""The devstack as a whole: ensure it is running, stop it, report its status."""

from __future__ import annotations

from pathlib import Path

from orchestrator.devstack.common import DevstackInfo, _database_target, _redact, _redis_target
from orchestrator.devstack.paths import _locked, _Paths, devstack_root
from orchestrator.devstack.postgres import _ensure_postgres, _pg_url_ok, _stop_postgres
from orchestrator.devstack.redis_server import _ensure_redis, _redis_ok, _stop_redis


def ensure_devstack(root: Path | None = None) -> DevstackInfo:
    """Start whatever part of the devstack is not running; return the URLs to use.

    A component whose ``ORCH_*_URL`` points somewhere other than the devstack port is left
    alone and its URL returned as given.
    """
    paths = _Paths(devstack_root(root))
    db_url, db_managed = _database_target()
    redis_url, redis_managed = _redis_target()
    actions: list[str] = []
    if db_managed or redis_managed:
        with _locked(paths):
            if db_managed:
                actions += _ensure_postgres(paths, db_url)
            if redis_managed:
                actions.append(_ensure_redis(paths))
    if not db_managed:
        actions.append(f"Postgres: using ORCH_DATABASE_URL={_redact(db_url)}")
    if not redis_managed:
        actions.append(f"Redis: using ORCH_REDIS_URL={_redact(redis_url)}")
    return DevstackInfo(db_url, redis_url, paths.root, tuple(actions))


def _stop(paths: _Paths) -> list[str]:
    _, db_managed = _database_target()
    _, redis_managed = _redis_target()
    with _locked(paths):
        return [
            _stop_postgres() if db_managed else "Postgres: external, left alone",
            _stop_redis(paths) if redis_managed else "Redis: external, left alone",
        ]


def stop_devstack(root: Path | None = None) -> None:
    """Stop the devstack's Postgres (fast shutdown) and Redis; no-op for what isn't running.

    Both are found by port, so this also stops a devstack started from another root.
    """
    _stop(_Paths(devstack_root(root)))


def devstack_status(root: Path | None = None) -> dict[str, bool]:
    """Whether Postgres and Redis answer at the URLs the app would use.

    ``root`` is accepted for symmetry with the other calls: the servers are found by port,
    so a devstack started from another checkout counts as running too.
    """
    del root
    return {
        "postgres": _pg_url_ok(_database_target()[0]),
        "redis": _redis_ok(_redis_target()[0]),
    }
