"""The simulator's journal: its ground truth on disk, so that a restart forgets nothing.

Without a state dir (``SimulatorConfig.state_dir`` None, the default of ``run_simulator`` and
of in-process tests) the simulator lives in memory and writes no file. With one
(``orchestrator simulator --state-dir PATH``, by default ``<devstack root>/simulator``) it keeps:

* ``simulator.lock``: an exclusive, non-blocking ``flock`` on it is held from the moment the
  state is opened (``create_simulator_app``) until the app stops, so one dir serves one
  simulator. A second one fails with ``SimulatorStateLocked`` naming the dir (the command exits
  2); ``state_dir_in_use(path)`` tells whether a dir is taken, by trying a shared lock for an
  instant.
* ``journal.jsonl``: what is kept. Every call record (id, seq, org, request, decided outcome,
  request index, status, timestamps, endedReason, cost, analysis, artifact; see ``records``)
  and every counter of ``GET /simulator/stats`` (callsPlaced, createRequests and the requests
  per number that fault decisions use, the dials per number that outcomes and
  ``numbersDialedMoreThanOnce`` use, faults, concurrencyRejections, webhooksSent,
  webhookFailures, endedReasons, forgotten and the peaks), plus the next ``seq``, so that it
  stays unique, and every phone number it knows; and every chat and session with its messages
  and status, and the counters of ``texts`` in the stats (their lines are described in
  ``text_store``). Only the one-second rate windows are not kept, and the replies still to come
  when it stopped, which are never played.

  One JSON object per line, each with ``op`` (its kind) and ``at`` (when it was written, Unix
  epoch milliseconds). Every change is appended as it happens, under the state's lock (the
  text engine's for texts) and before the change is answered, with one ``write`` of one line
  on an ``O_APPEND`` descriptor and no fsync: a killed process loses nothing it answered, a
  machine crash may.

  ==========  ============================  ===================================================
  op          other keys                    meaning
  ==========  ============================  ===================================================
  request     number                        a valid ``POST /call`` for that customer number
  fault       name                          a fault fired (a key of the stats' ``faults``)
  delivery    ok                            a webhook delivered (true) or given up on (false)
  rate        phone, perSecond              a phone number's create-rate peak rose
  call        call                          a call was created (a record: ``records``); counted
                                            in callsPlaced and as a dial of its number, or as a
                                            concurrency rejection when it has no ``outcome``
  status      id, status                    ringing or in-progress at ``at``
  end         id, endedReason, cost,        the call ended at ``at``
              analysis, artifact
  forget      ids                           ``POST /simulator/forget`` dropped these calls
  phone       phoneNumber                   a phone number it was started with, new or with
                                            new digits (see ``phone_numbers``); one a call
                                            names is known from that call's line
  counters    nextSeq, counters             every counter (absolute): a compacted journal's
                                            first line, followed by a ``phone`` line per number
  record      call                          a call as it was at compaction; nothing counted
  text*,      see ``text_store``            chats, sessions and the text counters
  session*,
  chat*
  stopped                                   the simulator stopped cleanly
  ==========  ============================  ===================================================

  The in-flight peaks get no line of their own: replaying the calls' entries and exits in
  order reproduces them (the ``counters`` line of a compacted journal carries them).

On start the journal is replayed (a torn last line, from a crash in the middle of a write, is
ignored; any other unreadable line is skipped with a warning). Every call that was not ended
is then ended, as cut off when the previous run stopped: at the ``at`` of the journal's last
line, which is the ``stopped`` line after a clean stop and the last change before a crash, and
never later than now. A call that had been answered (``in-progress`` or ``forwarding``) ends
``customer-ended-call``, keeps its ``startedAt`` and costs the talk time it had; one that had
not (``queued`` or ``ringing``) ends ``customer-did-not-answer`` without ``startedAt``, at no
cost; one the concurrency limit had refused ends as it would have. Their analysis says they
were cut off, their ended reasons are counted, and once the app serves, their ``status-update``
ended and ``end-of-call-report`` go out as for any call. Then the journal is rewritten
compacted (``counters``, one ``phone`` per phone number, one ``record`` per call, then the
texts: ``textCounters``, one ``sessionRecord`` per session, one ``chatRecord`` per chat, into
``journal.jsonl.tmp`` renamed over the journal) and appended to from there. The numbers it is
started with are added then.

``fresh`` (``--fresh``) starts empty and truncates the journal; ``POST /simulator/reset``
truncates it too (and forgets every phone number but those it was started with).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

logger = logging.getLogger(__name__)

LOCK_FILE = "simulator.lock"
JOURNAL_FILE = "journal.jsonl"


class SimulatorStateLocked(RuntimeError):
    """Another simulator holds this state dir."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(
            f"simulator state dir {state_dir} is in use by another simulator; "
            "stop that one or choose another --state-dir"
        )
        self.state_dir = state_dir


def state_dir_in_use(state_dir: Path) -> bool:
    """Whether a running simulator holds ``state_dir`` (its lock is tried for an instant)."""
    try:
        fd = os.open(state_dir / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        # Closing the only descriptor also drops the shared lock if it was taken.
        os.close(fd)
    return False


def epoch_ms() -> int:
    return time.time_ns() // 1_000_000


def encode(line: dict[str, Any]) -> bytes:
    """One journal line, newline included."""
    try:
        return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        # orjson refuses integers beyond 64 bits, which a request's metadata may carry.
        return json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _decode(raw: bytes) -> dict[str, Any] | None:
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(line, dict) or not isinstance(line.get("at"), int):
        return None
    return line


class Journal:
    """An open state dir: its lock, then its journal (see the module docstring)."""

    def __init__(self, state_dir: Path) -> None:
        state_dir = state_dir.expanduser().resolve()
        self.state_dir = state_dir
        self.path = state_dir / JOURNAL_FILE
        state_dir.mkdir(parents=True, exist_ok=True)
        self._lock_fd: int | None = os.open(state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise SimulatorStateLocked(state_dir) from None
        self._fd: int | None = None
        # The ``at`` of the last line replayed: when the previous run stopped.
        self.last_at: int | None = None

    def replay(self) -> Iterator[dict[str, Any]]:
        """The journal's lines, oldest first."""
        with contextlib.suppress(FileNotFoundError), self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                line = _decode(raw)
                if line is None:
                    if raw.endswith(b"\n"):
                        logger.warning("simulator journal %s: skipping line %d", self.path, number)
                    continue
                self.last_at = int(line["at"])
                yield line

    def rewrite(self, lines: Iterable[dict[str, Any]]) -> None:
        """Replace the journal by ``lines`` (atomically), then open it for appending."""
        temporary = self.path.with_name(JOURNAL_FILE + ".tmp")
        with temporary.open("wb") as out:
            for line in lines:
                out.write(encode(line))
            out.flush()
            # Once per start: a power cut must not leave a renamed but empty journal.
            os.fsync(out.fileno())
        os.replace(temporary, self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def append(self, line: dict[str, Any]) -> None:
        if self._fd is None:
            return  # closed: the app has stopped, nothing more is kept
        data = encode(line)
        while data:
            data = data[os.write(self._fd, data) :]

    def truncate(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)

    def close(self) -> None:
        """Write ``stopped``, close the journal and release the dir."""
        if self._fd is not None:
            self.append({"op": "stopped", "at": epoch_ms()})
            os.close(self._fd)
            self._fd = None
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None
