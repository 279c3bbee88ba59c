"""Vapi's TypeScript SDK (``@vapi-ai/server-sdk`` from npm) for tests that drive the API with it.

The SDK is installed once, at a pinned version, into ``.cache/`` at the repository's root (kept
between runs, ignored by git, removed by ``make clean``); its scripts run with the machine's
``node``. ``make system-deps`` installs Node.js and npm where they are missing, so a test that
cannot find them fails rather than skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

TS_SDK = "@vapi-ai/server-sdk"
TS_SDK_VERSION = "2.0.1"
ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = ROOT / ".cache" / "npm"
SCRIPTS = Path(__file__).resolve().parent / "ts_sdk"
INSTALL_TIMEOUT_SECONDS = 600
RUN_TIMEOUT_SECONDS = 120


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise AssertionError(f"no {name}: `make system-deps` installs Node.js and npm")
    return found


def ts_sdk_modules() -> Path:
    """The ``node_modules`` holding the pinned SDK, installed with npm on first use.

    It is installed into a directory of its own, renamed into place once complete: an install
    that fails or runs beside another never leaves half an SDK where the tests look.
    """
    target = CACHE_DIR / f"vapi-server-sdk-{TS_SDK_VERSION}"
    modules = target / "node_modules"
    if (modules / TS_SDK / "package.json").is_file():
        return modules
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="install-", dir=CACHE_DIR))
    command = [_tool("npm"), "install", "--prefix", str(staging), "--no-audit", "--no-fund"]
    command += ["--no-package-lock", "--ignore-scripts", "--loglevel=error"]
    try:
        subprocess.run(
            [*command, f"{TS_SDK}@{TS_SDK_VERSION}"],
            check=True,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
        )
        staging.rename(target)
    except OSError:
        if not (modules / TS_SDK / "package.json").is_file():
            raise
    except subprocess.CalledProcessError as failed:
        raise AssertionError(f"npm could not install {TS_SDK}: {failed.stderr}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return modules


def run_ts_sdk(script: str, *args: str) -> Any:
    """Run ``tests/support/ts_sdk/<script>`` with the SDK; the JSON it printed."""
    env = {**os.environ, "NODE_PATH": str(ts_sdk_modules())}
    done = subprocess.run(
        [_tool("node"), str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stderr}"
    return json.loads(done.stdout)
