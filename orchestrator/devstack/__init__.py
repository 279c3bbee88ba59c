"""Real Postgres and Redis on loopback, for development and tests.

The servers live under ``<cwd>/.devstack`` (or ``$ORCH_DEVSTACK_DIR``) and listen on the fixed
ports from :mod:`orchestrator.config`, so the default settings reach them with no configuration.
Exported both as plain functions (tests, ``orchestrator up``) and as the ``devstack`` CLI group.
"""

from __future__ import annotations

from orchestrator.devstack.cli import RootOption as RootOption
from orchestrator.devstack.cli import devstack_app
from orchestrator.devstack.cli import down as down
from orchestrator.devstack.cli import env as env
from orchestrator.devstack.cli import status as status
from orchestrator.devstack.cli import up as up
from orchestrator.devstack.common import DEFAULT_DATABASE_URL as DEFAULT_DATABASE_URL
from orchestrator.devstack.common import DEFAULT_REDIS_URL as DEFAULT_REDIS_URL
from orchestrator.devstack.common import LOOPBACK as LOOPBACK
from orchestrator.devstack.common import DevstackError, DevstackInfo, to_libpq_url
from orchestrator.devstack.lifecycle import devstack_status, ensure_devstack, stop_devstack
from orchestrator.devstack.paths import devstack_root
from orchestrator.devstack.pg_binaries import PG_SYSTEM_USER as PG_SYSTEM_USER
from orchestrator.devstack.pg_binaries import find_pg_bindir
from orchestrator.devstack.postgres import PG_SUPERUSER as PG_SUPERUSER
from orchestrator.devstack.postgres import PG_TUNING as PG_TUNING
from orchestrator.devstack.redis_server import find_redis_server

__all__ = [
    "DevstackError",
    "DevstackInfo",
    "devstack_app",
    "devstack_root",
    "devstack_status",
    "ensure_devstack",
    "find_pg_bindir",
    "find_redis_server",
    "stop_devstack",
    "to_libpq_url",
]
