"""Provider messages stored in batches and acknowledged once stored; applied in batches.

Every message that arrives while a batch is being stored waits for the next batch: the
messages of all concurrent requests are written in one statement and one commit (a group
commit), and each request is answered when the commit of its batch returns, never before.

Applying them is the applier's work. In ``background`` mode (the default) it runs beside the
intake, one batch after another, each batch being every message stored and not applied yet:
under load the batches grow, and the messages of one call fold into one update of its rows.
In ``inline`` mode each batch is applied in the transaction that stores it, so the answer
means applied (and a deployment needs no applier), at a lower rate. Either way a message is
applied exactly once, and in whichever order the messages come the end state is the same.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import anyio.to_thread

from orchestrator.orgs.auth import UnitOfWork
from orchestrator.webhooks.repository import NewEvent
from orchestrator.webhooks.service import (
    APPLY_BATCH,
    AppliedEvents,
    apply_pending_events,
    store_events,
)
from orchestrator.webhooks.sweep import apply_batch_or_each

logger = logging.getLogger(__name__)

ApplyMode = Literal["background", "inline"]
# Retrying a failed apply: soon at first, then less often while it keeps failing.
RETRY_FIRST_SECONDS = 0.05
RETRY_MAX_SECONDS = 5.0


@dataclass
class _Waiting:
    event: NewEvent
    stored: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class WebhookIntake:
    """Stores submitted messages in group commits; applies them as ``mode`` says."""

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        *,
        mode: ApplyMode,
        on_freed: Callable[[uuid.UUID], None],
    ) -> None:
        self._unit_of_work = unit_of_work
        self._mode = mode
        self._on_freed = on_freed
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        self._applier: asyncio.Task[None] | None = None
        self._apply_wanted = False

    async def submit(self, event: NewEvent) -> None:
        """Returns once the message is stored (and, inline, applied); raises if it cannot be."""
        waiting = _Waiting(event)
        self._queue.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_batches())
        await asyncio.shield(waiting.stored)

    async def _write_batches(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                freed = await anyio.to_thread.run_sync(self._store, [w.event for w in batch])
            except Exception:
                # One message the database refuses must not fail the others with it.
                logger.warning("storing %d webhooks together failed", len(batch), exc_info=True)
                freed = await self._store_one_by_one(batch)
            else:
                for waiting in batch:
                    waiting.stored.set_result(None)
            self._freed(freed)
            if self._mode == "background":
                self.request_apply()

    async def _store_one_by_one(self, batch: Sequence[_Waiting]) -> set[uuid.UUID]:
        freed: set[uuid.UUID] = set()
        for waiting in batch:
            try:
                freed |= await anyio.to_thread.run_sync(self._store, [waiting.event])
            except Exception as error:
                logger.exception("could not store a webhook")
                waiting.stored.set_exception(error)
            else:
                waiting.stored.set_result(None)
        return freed

    def _store(self, events: Sequence[NewEvent]) -> set[uuid.UUID]:
        """One transaction, committed on return: orgs whose capacity was freed (inline)."""
        with self._unit_of_work() as session:
            stored = [event_id for event_id in store_events(session, events) if event_id]
            if self._mode != "inline" or not stored:
                return set()
            return set(apply_pending_events(session, event_ids=stored).freed_org_ids)

    # ----------------------------------------------------------------------- applying

    def request_apply(self) -> None:
        """Apply what is stored and not applied yet, soon (call from the event loop)."""
        self._apply_wanted = True
        if self._applier is None or self._applier.done():
            self._applier = asyncio.get_running_loop().create_task(self._apply_backlog())

    async def _apply_backlog(self) -> None:
        retry_in = RETRY_FIRST_SECONDS
        while self._apply_wanted:
            self._apply_wanted = False
            try:
                applied = await anyio.to_thread.run_sync(self._apply)
            except Exception:
                # The database is unavailable: the events wait, stored, and are tried again.
                logger.warning("applying stored webhooks failed; retrying", exc_info=True)
                await asyncio.sleep(retry_in)
                retry_in = min(retry_in * 2, RETRY_MAX_SECONDS)
                self._apply_wanted = True
                continue
            retry_in = RETRY_FIRST_SECONDS
            self._freed(applied.freed_org_ids)
            if applied.claimed >= APPLY_BATCH:
                self._apply_wanted = True

    def _apply(self) -> AppliedEvents:
        return apply_batch_or_each(self._unit_of_work)

    def _freed(self, org_ids: set[uuid.UUID] | frozenset[uuid.UUID]) -> None:
        for org_id in org_ids:
            self._on_freed(org_id)

    async def drain(self) -> None:
        """Wait until everything submitted so far is stored and applied (tests, shutdown)."""
        while (self._writer and not self._writer.done()) or (
            self._applier and not self._applier.done()
        ):
            await asyncio.gather(
                *[t for t in (self._writer, self._applier) if t is not None],
                return_exceptions=True,
            )
