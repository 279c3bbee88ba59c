"""Where a devstack lives: its root, data and socket directories, and the start/stop lock."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config import DEVSTACK_PG_PORT

# sun_path is 108 bytes including the NUL; leave a little slack for the ".lock" suffix.
_MAX_SOCKET_PATH = 100


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
