"""Dispatching an org again when a webhook freed some of its capacity, coalesced per org.

Many calls of one org end at once under load; one dispatch reuses all of their capacity, so
requests for an org already waiting are merged into that one. The dispatch is enqueued only
after every merged request's transaction committed (each request is made after its commit,
and the enqueue happens after the request), so it sees all the freed capacity. It runs beside
the request, never in it: a keep-alive connection's next webhook does not wait for it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

logger = logging.getLogger(__name__)

# Long enough to merge the ends of a burst, far shorter than the scheduler's 1 s tick.
COALESCE_SECONDS = 0.02


class OrgRedispatcher:
    """Enqueues ``enqueue(org_id)`` at most once per org per ``delay``, after the request."""

    def __init__(
        self, enqueue: Callable[[uuid.UUID], None], *, delay: float = COALESCE_SECONDS
    ) -> None:
        self._enqueue = enqueue
        self._delay = delay
        self._waiting: set[uuid.UUID] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def request(self, org_id: uuid.UUID) -> None:
        """Call from the event loop, after the transaction that freed capacity committed."""
        if org_id in self._waiting:
            return
        self._waiting.add(org_id)
        task = asyncio.get_running_loop().create_task(self._dispatch_soon(org_id))
        self._tasks.add(task)  # a reference, so the task is not collected while it runs
        task.add_done_callback(self._tasks.discard)

    async def _dispatch_soon(self, org_id: uuid.UUID) -> None:
        try:
            await asyncio.sleep(self._delay)
        finally:
            # From here on a new request waits for a new dispatch: this one may be too early.
            self._waiting.discard(org_id)
        try:
            await run_in_threadpool(self._enqueue, org_id)
        except Exception:  # a failed enqueue only delays: the next tick dispatches anyway
            logger.warning("could not enqueue dispatch for org %s", org_id, exc_info=True)

    async def drain(self) -> None:
        """Wait for every dispatch requested so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
