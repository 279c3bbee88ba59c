"""``orchestrator campaign watch`` in a real terminal (tmux) on a running campaign: the
counters move between two captures of the screen, and the view ends with a summary when
the campaign ends."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from orchestrator.orgs.service import create_org
from orchestrator.runner import StackOptions
from tests.factories import customer_numbers
from tests.support.stack import Stack, e2e_stack

pytestmark = pytest.mark.e2e

CONTACTS = 60
CALLS_PER_SECOND = 3
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(api_port=0, simulator_port=0, workers=1, concurrency=4, seed=11)
    with e2e_stack(options) as stack:
        yield stack


class Terminal:
    """A tmux server of the test's own (its own socket), one window 150 columns wide."""

    def __init__(self) -> None:
        self.socket = f"orch-watch-{uuid.uuid4().hex[:8]}"

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
        line = f"env {exports} {shlex.join(command)}; sleep 600"
        self.tmux("new-session", "-d", "-s", "watch", "-x", "150", "-y", "45", line)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "watch")

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        pytest.fail(f"{text!r} never appeared:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def _counters(screen: str) -> list[str]:
    lines = screen.splitlines()
    header = next(
        i for i, line in enumerate(lines) if line.split()[:2] == ["pending", "dispatched"]
    )
    return lines[header + 1].split()


def _campaign(client: httpx.Client) -> str:
    paced = client.put(
        "/phone-number/caller-watch/pacing", json={"callsPerSecond": CALLS_PER_SECOND}
    )
    assert paced.status_code == 200, paced.text
    customers = [{"number": n} for n in customer_numbers(CONTACTS, start=7000)]
    body = {
        "name": "watched",
        "assistantId": "assistant-watch",
        "phoneNumberId": "caller-watch",
        "maxConcurrency": 4,
        "customers": customers,
    }
    created = client.post("/campaign", json=body)
    assert created.status_code == 201, created.text
    campaign_id: str = created.json()["id"]
    return campaign_id


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (make install)")
def test_watch_shows_the_counters_moving_then_the_end(stack: Stack, committed: Session) -> None:
    org = create_org(committed, name=f"watch-{uuid.uuid4()}", concurrency_limit=20)
    committed.commit()
    headers = {"Authorization": f"Bearer {org.api_key}"}
    terminal = Terminal()
    env = {
        "ORCH_API_URL": stack.api_url,
        "ORCH_API_KEY": org.api_key,
        "ORCH_ENV": "development",
        "PYTHONPATH": str(REPO),
        "PATH": os.environ.get("PATH", ""),
        "TERM": "xterm-256color",
    }
    try:
        with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as client:
            campaign_id = _campaign(client)
        command = [sys.executable, "-m", "orchestrator.cli", "campaign", "watch", campaign_id]
        terminal.start([*command, "--interval", "1"], env)
        first = terminal.wait_for("dialed/s: ", timeout=30)
        time.sleep(3)
        second = terminal.wait_for("(last ", timeout=10)
        print(f"--- first capture ---\n{first}\n--- second capture ---\n{second}")
        assert f"campaign: {campaign_id}  watched" in second
        assert _counters(first) != _counters(second), (first, second)
        assert int(_counters(second)[-1]) == CONTACTS
        finished = terminal.wait_for(f"campaign {campaign_id} ended", timeout=120)
        print(f"--- at the end ---\n{finished}")
        assert f"of {CONTACTS}; {CONTACTS} dialed" in finished
    finally:
        terminal.close()
