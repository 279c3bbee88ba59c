"""Real Postgres and Redis on loopback, for development and tests.

The servers live under ``<cwd>/.devstack`` (or ``$ORCH_DEVSTACK_DIR``) and listen on the fixed
ports from :mod:`orchestrator.config`, so the default settings reach them with no configuration.
Exported both as plain functions (tests, ``orchestrator up``) and as the ``devstack`` CLI group.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import os
import pwd
import re
import shlex
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlsplit

import psycopg
import redis
import typer
from psycopg import sql
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestrator.config import DEVSTACK_PG_PORT, DEVSTACK_REDIS_PORT

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

LOOPBACK = "127.0.0.1"
DEFAULT_DATABASE_URL = (
    f"postgresql+psycopg://orchestrator@{LOOPBACK}:{DEVSTACK_PG_PORT}/orchestrator"
)
DEFAULT_REDIS_URL = f"redis://{LOOPBACK}:{DEVSTACK_REDIS_PORT}/0"

PG_SUPERUSER = "postgres"
PG_SYSTEM_USER = "postgres"
# Durability is worthless for throwaway dev/test data, and turning it off makes test suites
# that create and drop lots of rows several times faster.
PG_TUNING = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "'256MB'",
}
# sun_path is 108 bytes including the NUL; leave a little slack for the ".lock" suffix.
_MAX_SOCKET_PATH = 100
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


@dataclass(frozen=True)
class _Paths:
    root: Path

    @property
    def pgdata(self) -> Path:
        return self.root / "pg"

    @property
    def pg_log(self) -> Path:
        return self.root / "pg.log"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def redis_log(self) -> Path:
        return self.root / "redis.log"

    @property
    def redis_pidfile(self) -> Path:
        return self.redis_dir / "redis.pid"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def socket_dir(self) -> Path:
        inside = self.root / "run"
        if len(str(inside / f".s.PGSQL.{DEVSTACK_PG_PORT}")) <= _MAX_SOCKET_PATH:
            return inside
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
        # Not tempfile.gettempdir(): $TMPDIR can itself be too long (macOS, some CI runners).
        return Path("/tmp") / f"orch-devstack-{digest}"  # noqa: S108


def devstack_root(root: Path | None = None) -> Path:
    """The devstack directory: ``root``, else ``$ORCH_DEVSTACK_DIR``, else ``./.devstack``."""
    if root is None:
        env = os.environ.get("ORCH_DEVSTACK_DIR")
        root = Path(env) if env else Path.cwd() / ".devstack"
    return root.expanduser().resolve()


# --------------------------------------------------------------------------- helpers


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


def _apt_install(package: str, what: str, override_var: str) -> None:
    hint = (
        f"{what} not found. Install the {package} package (Debian/Ubuntu: "
        f"`sudo apt-get install {package}`) "
        f"or point {override_var} at an existing server."
    )
    apt = _which("apt-get")
    if not _is_root() or apt is None:
        raise DevstackError(hint)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock_wait = ["-o", "DPkg::Lock::Timeout=300"]
    for cmd in (
        [apt, *lock_wait, "update"],
        [apt, *lock_wait, "install", "-y", "--no-install-recommends", package],
    ):
        # apt's progress goes to our stderr so `up` shows it, while stdout stays clean.
        proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=2, check=False)
        if proc.returncode != 0:
            raise DevstackError(f"{shlex.join(cmd)} failed (exit {proc.returncode}). {hint}")


@contextlib.contextmanager
def _locked(paths: _Paths) -> Iterator[None]:
    """Serialise start/stop, so parallel test runs don't race two initdbs or two servers."""
    paths.root.mkdir(parents=True, exist_ok=True)
    ignore = paths.root / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    with paths.lock.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


# --------------------------------------------------------------------------- postgres


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


# --------------------------------------------------------------------------- redis


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


# --------------------------------------------------------------------------- public API


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


# --------------------------------------------------------------------------- CLI

devstack_app = typer.Typer(
    help="Local Postgres and Redis on loopback for development and tests.",
    no_args_is_help=True,
)
_console = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Devstack directory [default: $ORCH_DEVSTACK_DIR or ./.devstack]",
        show_default=False,
    ),
]


@devstack_app.command()
def up(root: RootOption = None) -> None:
    """Start Postgres and Redis if they are not running (idempotent)."""
    started = time.monotonic()
    try:
        info = ensure_devstack(root)
    except DevstackError as exc:
        _err.print(f"[red]devstack up failed:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    for action in info.actions:
        _console.print(f"• {escape(action)}")
    _console.print(f"ORCH_DATABASE_URL={escape(_redact(info.database_url))}")
    _console.print(f"ORCH_REDIS_URL={escape(_redact(info.redis_url))}")
    _console.print(f"[green]devstack ready[/green] in {time.monotonic() - started:.1f}s")


@devstack_app.command()
def down(root: RootOption = None) -> None:
    """Stop Postgres (fast shutdown) and Redis."""
    try:
        messages = _stop(_Paths(devstack_root(root)))
    except DevstackError as exc:
        _err.print(f"[red]devstack down failed:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    for message in messages:
        _console.print(f"• {escape(message)}")


@devstack_app.command()
def status(root: RootOption = None) -> None:
    """Show whether each component answers; exit 1 unless both do."""
    state = devstack_status(root)
    urls = {"postgres": _database_target()[0], "redis": _redis_target()[0]}
    table = Table("component", "state")
    table.add_column("url", overflow="fold")
    for name, running in state.items():
        label = "[green]running[/green]" if running else "[red]down[/red]"
        table.add_row(name, label, escape(_redact(urls[name])))
    _console.print(table)
    if not all(state.values()):
        raise typer.Exit(1)


@devstack_app.command()
def env() -> None:
    """Print export lines; use as  eval "$(orchestrator devstack env)"."""
    # Plain echo, not rich: the output is shell code and must not be wrapped or styled.
    typer.echo(f"export ORCH_DATABASE_URL={shlex.quote(_database_target()[0])}")
    typer.echo(f"export ORCH_REDIS_URL={shlex.quote(_redis_target()[0])}")
