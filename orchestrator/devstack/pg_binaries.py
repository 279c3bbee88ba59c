"""Finding the Postgres server binaries, and running them as the ``postgres`` system user."""

from __future__ import annotations

import contextlib
import os
import pwd
import re
from pathlib import Path

from orchestrator.devstack.common import DevstackError, _is_root, _run, _which
from orchestrator.devstack.install import _apt_install

PG_SYSTEM_USER = "postgres"


def _pg_major(bindir: Path) -> str | None:
    try:
        out = _run([str(bindir / "postgres"), "--version"], "postgres --version")
    except DevstackError:
        return None
    match = re.search(r"\)\s*(\d+)", out)
    return match.group(1) if match else None


def _pg_bindir_candidates() -> list[Path]:
    candidates: list[Path] = []
    pg_config = _which("pg_config")
    if pg_config:
        with contextlib.suppress(DevstackError):
            candidates.append(Path(_run([pg_config, "--bindir"], "pg_config").strip()))
    versioned = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versioned, key=lambda p: _version_key(p.parent.name), reverse=True)
    initdb = _which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    return candidates


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def find_pg_bindir(major: str | None = None) -> Path | None:
    """A directory with the Postgres server binaries (of version ``major``, if given)."""
    tools = ("initdb", "pg_ctl", "pg_isready", "postgres")
    for bindir in _pg_bindir_candidates():
        if not all(os.access(bindir / tool, os.X_OK) for tool in tools):
            continue
        if major is None or _pg_major(bindir) == major:
            return bindir
    return None


def _pg_bindir_for(pgdata: Path) -> Path:
    version_file = pgdata / "PG_VERSION"
    major = version_file.read_text().strip() if version_file.exists() else None
    bindir = find_pg_bindir(major)
    if bindir is None and find_pg_bindir() is None:
        package = f"postgresql-{major}" if major else "postgresql"
        _apt_install(package, "PostgreSQL server binaries", "ORCH_DATABASE_URL")
        bindir = find_pg_bindir(major)
    if bindir is None and major is not None:
        raise DevstackError(
            f"{pgdata} was created by PostgreSQL {major}, whose binaries are not "
            f"installed. Install postgresql-{major}, or delete {pgdata} to start afresh."
        )
    if bindir is None:
        raise DevstackError("PostgreSQL server binaries (initdb, pg_ctl) still not found.")
    return bindir


def _as_pg_user(cmd: list[str]) -> list[str]:
    """Postgres refuses to run as root, so root runs it as the ``postgres`` system user."""
    if not _is_root():
        return cmd
    if _which("runuser"):
        return ["runuser", "-u", PG_SYSTEM_USER, "--", *cmd]
    user = PG_SYSTEM_USER
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *cmd]


def _pg_owner() -> tuple[int, int] | None:
    if not _is_root():
        return None
    try:
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        _run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/var/lib/postgresql",
                "--shell",
                "/usr/sbin/nologin",
                PG_SYSTEM_USER,
            ],
            "useradd",
        )
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid
