"""The devstack's Postgres: initdb, start/stop, and the role and database the app uses."""

from __future__ import annotations

import getpass
import os
import stat
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from orchestrator.config import DEVSTACK_PG_PORT
from orchestrator.devstack.common import (
    LOOPBACK,
    DevstackError,
    _port_open,
    _redact,
    _run,
    _tail,
    _wait_for,
    to_libpq_url,
)
from orchestrator.devstack.paths import _Paths
from orchestrator.devstack.pg_binaries import _as_pg_user, _pg_bindir_for, _pg_major, _pg_owner

PG_SUPERUSER = "postgres"


# Durability is worthless for throwaway dev/test data, and turning it off makes test suites
# that create and drop lots of rows several times faster.
PG_TUNING = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "'256MB'",
}


def _make_traversable(path: Path) -> list[str]:
    """Let the postgres user reach ``path``: add o+x on ancestors that lack it."""
    actions: list[str] = []
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
            actions.append(f"added o+x to {directory} so the postgres user can reach the data")
    return actions


def _prepare_pg_dirs(paths: _Paths) -> list[str]:
    owner = _pg_owner()
    actions = _make_traversable(paths.root) if owner else []
    paths.pgdata.mkdir(mode=0o700, exist_ok=True)
    paths.socket_dir.mkdir(mode=0o755, exist_ok=True)
    paths.pg_log.touch()
    if owner:
        for path in (paths.pgdata, paths.socket_dir, paths.pg_log):
            os.chown(path, *owner)
    # initdb insists on 0700/0750, whatever the umask made of the mkdir.
    paths.pgdata.chmod(0o700)
    return actions


def _write_pg_conf(paths: _Paths) -> None:
    # Rewritten on every start so moving the checkout (new socket dir) or editing PG_TUNING
    # takes effect without re-initialising the cluster.
    socket_dir = str(paths.socket_dir).replace("'", "''")
    settings = {
        "listen_addresses": f"'{LOOPBACK}'",
        "port": str(DEVSTACK_PG_PORT),
        "unix_socket_directories": f"'{socket_dir}'",
        **PG_TUNING,
    }
    conf = paths.pgdata / "devstack.conf"
    body = "".join(f"{key} = {value}\n" for key, value in settings.items())
    conf.write_text("# Written by orchestrator.devstack on every start.\n" + body)
    owner = _pg_owner()
    if owner:
        os.chown(conf, *owner)


def _initdb(bindir: Path, paths: _Paths) -> None:
    cmd = [
        str(bindir / "initdb"),
        "-D",
        str(paths.pgdata),
        "--auth=trust",
        f"--username={PG_SUPERUSER}",
        "-E",
        "UTF8",
        "--locale=C",
    ]
    # cwd must be readable by the postgres user, or initdb cannot resolve its own path.
    _run(_as_pg_user(cmd), "initdb", cwd=paths.root)
    with (paths.pgdata / "postgresql.conf").open("a") as conf:
        conf.write("\ninclude_if_exists = 'devstack.conf'\n")


def _pg_admin_conninfo(timeout: int = 3) -> str:
    return (
        f"host={LOOPBACK} port={DEVSTACK_PG_PORT} user={PG_SUPERUSER} dbname=postgres "
        f"connect_timeout={timeout}"
    )


def _pg_admin_ok() -> bool:
    try:
        with psycopg.connect(_pg_admin_conninfo(), autocommit=True) as conn:
            conn.execute("select 1")
    except psycopg.Error:
        return False
    return True


def _pg_url_ok(url: str) -> bool:
    try:
        with psycopg.connect(to_libpq_url(url), connect_timeout=3, autocommit=True) as conn:
            conn.execute("select 1")
    except psycopg.Error:
        return False
    return True


def _start_pg_server(paths: _Paths) -> list[str]:
    bindir = _pg_bindir_for(paths.pgdata)
    actions = _prepare_pg_dirs(paths)
    if not (paths.pgdata / "PG_VERSION").exists():
        _initdb(bindir, paths)
        actions.append(f"initialised a PostgreSQL {_pg_major(bindir)} cluster in {paths.pgdata}")
    _write_pg_conf(paths)
    cmd = [
        str(bindir / "pg_ctl"),
        "-D",
        str(paths.pgdata),
        "-l",
        str(paths.pg_log),
        "-w",
        "-t",
        "60",
        "start",
    ]
    try:
        _run(_as_pg_user(cmd), "pg_ctl start", cwd=paths.root, timeout=90)
    except DevstackError as exc:
        raise DevstackError(f"{exc}\n--- {paths.pg_log} ---\n{_tail(paths.pg_log)}") from exc
    isready = [str(bindir / "pg_isready"), "-q", "-h", LOOPBACK, "-p", str(DEVSTACK_PG_PORT)]
    if not _wait_for(lambda: subprocess.run(isready, check=False).returncode == 0, 30, 0.2):
        raise DevstackError(f"Postgres did not become ready; see {paths.pg_log}")
    actions.append(f"started Postgres on {LOOPBACK}:{DEVSTACK_PG_PORT} (log: {paths.pg_log})")
    return actions


def _url_role_and_db(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    # Same fallbacks as libpq: user defaults to the OS user, database to the user name.
    user = unquote(parts.username) if parts.username else getpass.getuser()
    return user, unquote(parts.path.lstrip("/")) or user


def _ensure_role_and_db(url: str) -> list[str]:
    user, dbname = _url_role_and_db(url)
    actions: list[str] = []
    with psycopg.connect(_pg_admin_conninfo(), autocommit=True) as conn:
        if not conn.execute("select 1 from pg_roles where rolname = %s", (user,)).fetchone():
            # Superuser so migrations and tests may create extensions and drop schemas freely.
            conn.execute(sql.SQL("create role {} superuser login").format(sql.Identifier(user)))
            actions.append(f"created Postgres role {user!r}")
        if not conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone():
            conn.execute(
                sql.SQL("create database {} owner {}").format(
                    sql.Identifier(dbname), sql.Identifier(user)
                )
            )
            actions.append(f"created database {dbname!r}")
    return actions


def _ensure_postgres(paths: _Paths, url: str) -> list[str]:
    if _pg_url_ok(url):
        return [f"Postgres already running on {LOOPBACK}:{DEVSTACK_PG_PORT}"]
    actions: list[str] = []
    if _port_open(DEVSTACK_PG_PORT):
        # Something is listening: maybe a server still starting up, from another checkout.
        if not _wait_for(_pg_admin_ok, 30, 0.25):
            raise DevstackError(
                f"port {DEVSTACK_PG_PORT} is in use, but not by a Postgres that accepts "
                f"trust logins as {PG_SUPERUSER!r}; stop whatever holds it."
            )
    else:
        actions += _start_pg_server(paths)
    try:
        actions += _ensure_role_and_db(url)
    except psycopg.Error as exc:
        raise DevstackError(
            f"could not create the role/database for {_redact(url)}: {exc}"
        ) from exc
    return actions


def _running_pgdata() -> Path | None:
    try:
        with psycopg.connect(_pg_admin_conninfo(), autocommit=True) as conn:
            row = conn.execute("show data_directory").fetchone()
    except psycopg.Error:
        return None
    return Path(row[0]) if row else None


def _stop_postgres() -> str:
    # Ask the server for its data directory rather than trusting our root: the server on the
    # devstack port may have been started from another checkout or working directory.
    pgdata = _running_pgdata()
    if pgdata is None:
        return "Postgres: not running"
    pg_ctl = [str(_pg_bindir_for(pgdata) / "pg_ctl"), "-D", str(pgdata)]
    # Fast mode: disconnect clients at once instead of waiting for idle pools to go away.
    _run(
        _as_pg_user([*pg_ctl, "-m", "fast", "-w", "-t", "60", "stop"]),
        "pg_ctl stop",
        cwd=pgdata,
        timeout=90,
    )
    return f"Postgres: stopped ({pgdata})"
