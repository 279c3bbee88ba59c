"""What the simulator writes to disk, and only when it has a state dir."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.simulator.journal import LOCK_FILE
from tests.support.simulators import journal_lines, journal_path, running

# Paths opened for writing while a test listens (None: nobody listens).
_opened_for_writing: list[str] | None = None
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or _opened_for_writing is None:
        return
    path, mode, flags = args
    by_mode = isinstance(mode, str) and any(c in mode for c in "wax+")
    if by_mode or (isinstance(flags, int) and flags & _WRITE_FLAGS):
        _opened_for_writing.append(os.fsdecode(path) if not isinstance(path, int) else "<fd>")


sys.addaudithook(_audit)


@contextmanager
def files_opened_for_writing() -> Iterator[list[str]]:
    """Every file this process opens for writing meanwhile (all threads)."""
    global _opened_for_writing
    opened: list[str] = []
    _opened_for_writing = opened
    try:
        yield opened
    finally:
        _opened_for_writing = None


def place_and_stop(state_dir: Path | None, count: int = 3) -> list[str]:
    with running(state_dir) as sim:
        ids = [sim.create(f"+1444100{i:04d}") for i in range(count)]
        sim.settled()
    return ids


def test_a_memory_only_simulator_writes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ORCH_DEVSTACK_DIR", str(tmp_path / "devstack"))
    with files_opened_for_writing() as opened:
        place_and_stop(None)
    assert opened == []
    assert list(tmp_path.iterdir()) == []
    # The same run with a state dir is seen writing: the check above can fail.
    with files_opened_for_writing() as opened:
        place_and_stop(tmp_path / "state")
    assert str(journal_path(tmp_path / "state")) in opened


def test_fresh_starts_empty_and_truncates_the_journal(tmp_path: Path) -> None:
    place_and_stop(tmp_path)
    assert [line["op"] for line in journal_lines(tmp_path)].count("call") == 3
    with running(tmp_path, fresh=True) as sim:
        assert sim.calls() == []
        assert sim.stats()["callsPlaced"] == 0
        assert [line["op"] for line in journal_lines(tmp_path)] == ["counters", "textCounters"]
        kept = sim.create("+14441009999")
    with running(tmp_path) as sim:
        assert [call["id"] for call in sim.calls()] == [kept]
        assert sim.stats()["callsPlaced"] == 1


def test_reset_empties_the_journal(tmp_path: Path) -> None:
    place_and_stop(tmp_path)
    with running(tmp_path) as sim:
        assert len(sim.calls()) == 3
        assert httpx.post(f"{sim.base_url}/simulator/reset").json() == {"status": "ok"}
        assert journal_path(tmp_path).read_bytes() == b""
        after_reset = sim.create("+14441008888")
        sim.settled()
    with running(tmp_path) as sim:
        assert [call["id"] for call in sim.calls()] == [after_reset]
        assert sim.stats()["callsPlaced"] == 1
        assert sim.stats()["createRequests"] == 1


def test_a_torn_last_line_is_ignored_and_compacted_away(tmp_path: Path) -> None:
    ids = place_and_stop(tmp_path)
    with running(tmp_path) as sim:
        before = [sim.known(call_id) for call_id in ids]
        stats = sim.stats()
    with journal_path(tmp_path).open("ab") as journal:
        journal.write(b'{"op":"call","at":1,"call":{"id":"torn-')
    with running(tmp_path) as sim:
        assert [sim.known(call_id) for call_id in ids] == before
        assert sim.stats() == stats
        assert not journal_path(tmp_path).read_bytes().count(b"torn-")
    assert (tmp_path / LOCK_FILE).exists()
