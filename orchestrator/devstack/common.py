"""What every part of the devstack shares: its errors, default URLs and process helpers."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from orchestrator.config import DEVSTACK_PG_PORT, DEVSTACK_REDIS_PORT

LOOPBACK = "127.0.0.1"
DEFAULT_DATABASE_URL = (
    f"postgresql+psycopg://orchestrator@{LOOPBACK}:{DEVSTACK_PG_PORT}/orchestrator"
)
DEFAULT_REDIS_URL = f"redis://{LOOPBACK}:{DEVSTACK_REDIS_PORT}/0"


_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
# Root's PATH usually has the sbin dirs, but a sudo-less or minimal CI env may not.
_EXTRA_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


class DevstackError(RuntimeError):
    """The devstack could not be started or stopped; the message says why and what to do."""


@dataclass(frozen=True)
class DevstackInfo:
    database_url: str
    redis_url: str
    root: Path
    actions: tuple[str, ...] = ()


def _is_root() -> bool:
    return os.geteuid() == 0


def _which(name: str) -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), *_EXTRA_PATH])
    return shutil.which(name, path=path)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _run(cmd: list[str], what: str, *, cwd: Path | None = None, timeout: float = 120) -> str:
    # A new session keeps daemons we spawn out of our process group, so Ctrl-C in the
    # terminal (or pytest's teardown) does not take the servers down with us.
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DevstackError(f"{what} failed: {shlex.join(cmd)}: {exc}") from exc
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        raise DevstackError(f"{what} failed (exit {proc.returncode}): {shlex.join(cmd)}\n{output}")
    return proc.stdout


def _wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _port_open(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _redact(url: str) -> str:
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def _target(env_var: str, default: str, port: int) -> tuple[str, bool]:
    """The URL to use and whether the devstack is the server behind it."""
    url = os.environ.get(env_var) or default
    parts = urlsplit(url)
    try:
        url_port = parts.port
    except ValueError:
        return url, False
    return url, parts.hostname in _LOCAL_HOSTS and url_port == port


def _database_target() -> tuple[str, bool]:
    return _target("ORCH_DATABASE_URL", DEFAULT_DATABASE_URL, DEVSTACK_PG_PORT)


def _redis_target() -> tuple[str, bool]:
    return _target("ORCH_REDIS_URL", DEFAULT_REDIS_URL, DEVSTACK_REDIS_PORT)


def to_libpq_url(url: str) -> str:
    """Strip SQLAlchemy's ``+driver`` suffix so libpq/psycopg accept the URL."""
    return re.sub(r"^postgres(?:ql)?\+\w+://", "postgresql://", url)
