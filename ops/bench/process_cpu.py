"""CPU seconds spent by the stack's processes, from each process's own accounting.

A process's figure is its user and system time plus those of the children it has reaped, so
a whole tree is the sum over its live processes: a child that exits moves from its own line
into its parent's, and nothing is counted twice or lost. Postgres and Redis are found by the
port they listen on (the postmaster reaps every backend, so backends that came and went are
in its children's time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil

from orchestrator.config import get_settings

# A stack child's role, by the start of its name in ``StackInfo.processes``.
STACK_ROLES = {"api": "api", "worker": "workers", "outbound": "workers", "beat": "beat"}
SIMULATOR_CHILD = "sim"


def tree_cpu_seconds(pid: int) -> float:
    """User + system seconds of ``pid`` and every descendant, reaped ones included."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in tree:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def listening_pid(port: int) -> int | None:
    """The process listening on TCP ``port`` of this machine (the oldest, if several)."""
    owners = [
        conn.pid
        for conn in psutil.net_connections(kind="tcp")
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid
    ]
    return min(owners, key=lambda pid: psutil.Process(pid).create_time()) if owners else None


def _port_of(url: str, default: int) -> int:
    return urlsplit(url.replace("+psycopg", "")).port or default


@dataclass(frozen=True)
class CpuMeter:
    """Process trees by role, and their CPU seconds when the meter was made."""

    ORCHESTRATOR_ROLES = ("api", "workers", "beat", "postgres", "redis")

    pids: Mapping[str, tuple[int, ...]]
    start: Mapping[str, float]

    @classmethod
    def for_stack(cls, processes: Mapping[str, int]) -> CpuMeter:
        pids: dict[str, list[int]] = {}
        for name, pid in processes.items():
            role = next((r for p, r in STACK_ROLES.items() if name.startswith(p)), None)
            if name == SIMULATOR_CHILD:
                role = "simulator"
            if role:
                pids.setdefault(role, []).append(pid)
        settings = get_settings()
        for role, port in (
            ("postgres", _port_of(settings.database_url, 5432)),
            ("redis", _port_of(settings.redis_url, 6379)),
        ):
            server = listening_pid(port)
            if server is None:
                raise RuntimeError(f"no process listens for {role} on port {port}")
            pids[role] = [server]
        frozen = {role: tuple(found) for role, found in pids.items()}
        return cls(frozen, _read(frozen))

    def spent(self) -> dict[str, float]:
        """CPU seconds each role spent since the meter was made."""
        now = _read(self.pids)
        return {role: now[role] - self.start[role] for role in self.pids}


def _read(pids: Mapping[str, tuple[int, ...]]) -> dict[str, float]:
    return {role: sum(tree_cpu_seconds(pid) for pid in found) for role, found in pids.items()}
