"""Enqueuing follow-up work after webhooks, coalesced per key, always after the request.

Many calls of one org end at once under load; one dispatch reuses all of their capacity, so
requests for an org already waiting are merged into that one. Likewise every batch of stored
webhooks asks the workers to apply what is stored, and one apply task takes every batch
stored before it starts. The work is enqueued only after every merged request's transaction
committed (each request is made after its commit, and the enqueue happens after the
request), so it sees all of it. It runs beside the request, never in it: a keep-alive
connection's next webhook does not wait for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

logger = logging.getLogger(__name__)

# Long enough to merge the ends of a burst, far shorter than the scheduler's 1 s tick.
COALESCE_SECONDS = 0.02

Key = TypeVar("Key", bound=Hashable)


class Coalescer(Generic[Key]):
    """Runs ``enqueue(key)`` at most once per key per ``delay``, after the request."""

    def __init__(self, enqueue: Callable[[Key], None], *, delay: float = COALESCE_SECONDS) -> None:
        self._enqueue = enqueue
        self._delay = delay
        self._waiting: set[Key] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def request(self, key: Key) -> None:
        """Call from the event loop, after the transaction whose work this is committed."""
        if key in self._waiting:
            return
        self._waiting.add(key)
        task = asyncio.get_running_loop().create_task(self._enqueue_soon(key))
        self._tasks.add(task)  # a reference, so the task is not collected while it runs
        task.add_done_callback(self._tasks.discard)

    async def _enqueue_soon(self, key: Key) -> None:
        try:
            await asyncio.sleep(self._delay)
        finally:
            # From here on a new request waits for a new enqueue: this one may be too early.
            self._waiting.discard(key)
        try:
            await run_in_threadpool(self._enqueue, key)
        except Exception:  # a failed enqueue only delays: the beat's periodic tasks catch up
            logger.warning("could not enqueue follow-up work for %s", key, exc_info=True)

    async def drain(self) -> None:
        """Wait for every enqueue requested so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
