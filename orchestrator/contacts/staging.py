"""Appended contacts written while the next are read: a thread of its own COPYs them into the
staging table a chunk at a time and moves each chunk into ``contacts`` (see
``import_repository``), while the caller's thread goes on reading and checking rows.

The two meet at a short queue, so neither holds more than a few batches of rows. The
caller's session is used by the mover alone until it has finished (``stage_and_move``
returns only then). No commits.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from sqlalchemy.orm import Session

from orchestrator.contacts import import_repository
from orchestrator.contacts.import_repository import ChunkTarget
from orchestrator.contacts.service import NewContact

Staged = tuple[int, NewContact]
# Rows COPY'd before each move: a move's sort stays small and the next chunk is read meanwhile.
CHUNK_ROWS = 10_000
BATCH_ROWS = 500
QUEUED_BATCHES = 32
_PUT_WAIT_SECONDS = 0.1


class _Aborted(Exception):
    """The caller's thread gave up (a bad body, say): the COPY under way is failed."""


class _Mover:
    def __init__(
        self, session: Session, target: ChunkTarget, into_contacts: Callable[[], bool]
    ) -> None:
        self.session = session
        self.target = target
        self.into_contacts = into_contacts
        self.batches: queue.Queue[list[Staged] | None] = queue.Queue(maxsize=QUEUED_BATCHES)
        self.aborted = False
        self.ended = False
        self.error: BaseException | None = None
        self.zones: Counter[str] = Counter()

    def run(self) -> None:
        try:
            while not self.ended:
                import_repository.stage_chunk(self.session, contacts=self._chunk())
                moved = import_repository.move_chunk(
                    self.session, target=self.target, into_contacts=self.into_contacts()
                )
                self.zones.update(moved)
        except BaseException as error:  # handed to the caller's thread
            self.error = error

    def _chunk(self) -> Iterator[Staged]:
        count = 0
        while count < CHUNK_ROWS:
            batch = self.batches.get()
            if batch is None:
                self.ended = True
                if self.aborted:
                    raise _Aborted
                return
            yield from batch
            count += len(batch)

    def put(self, batch: list[Staged] | None, thread: threading.Thread) -> bool:
        """False when the mover has stopped (its error is then in ``error``)."""
        while thread.is_alive():
            try:
                self.batches.put(batch, timeout=_PUT_WAIT_SECONDS)
            except queue.Full:
                continue
            return True
        return False


def stage_and_move(
    session: Session,
    *,
    target: ChunkTarget,
    contacts: Iterable[Staged],
    into_contacts: Callable[[], bool],
) -> dict[str, int]:
    """Every contact staged (its key kept for ``staged_duplicates``) and, while
    ``into_contacts()``, those whose key is free added: how many of each zone key."""
    import_repository.create_staging(session)
    mover = _Mover(session, target, into_contacts)
    thread = threading.Thread(target=mover.run, name="append-mover", daemon=True)
    thread.start()
    given = iter(contacts)
    try:
        while batch := list(islice(given, BATCH_ROWS)):
            if not mover.put(batch, thread):
                break
    except BaseException:
        mover.aborted = True
        mover.put(None, thread)
        thread.join()
        raise
    mover.put(None, thread)
    thread.join()
    if mover.error is not None:
        raise mover.error
    return dict(mover.zones)
