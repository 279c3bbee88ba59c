"""Installing a missing server with apt-get, when running as root on Debian/Ubuntu."""

from __future__ import annotations

import os
import shlex
import subprocess

from orchestrator.devstack.common import DevstackError, _is_root, _which


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
