"""Provider messages stored in batches and acknowledged once stored.

Every message that arrives while a batch is being stored waits for the next batch: the
messages of all concurrent requests are written in one statement and one commit (a group
commit), and each request is answered when the commit of its batch returns, never before.

Where a batch goes depends on the apply mode. In ``worker`` mode (the default) it is stored on
an asyncio connection of the intake's own, in autocommit (one statement: committed when it
returns), without leaving the event loop; the workers' ``webhooks.apply`` task is then asked
to apply what is stored (``on_stored``), in batches of its own, where a call's messages fold
into one update. In ``inline`` mode each batch is stored and applied in one unit of work in a
worker thread (``flows.apply_webhooks.InlineStore``), so the answer means applied (and a
deployment needs no worker for it), at a lower rate. Either way a message is applied exactly
once, and in whichever order the messages come the end state is the same.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from sqlalchemy.engine import make_url

from orchestrator.webhooks.repository import PENDING, NewEvent
from orchestrator.webhooks.storing import store_events_async

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class StoredBatch:
    # Orgs whose calls ended while holding capacity (applied inline): reusable at once.
    freed_org_ids: frozenset[uuid.UUID] = frozenset()
    # Messages stored and left waiting to be applied.
    waiting: bool = False


class BatchStore(Protocol):
    async def store(self, events: Sequence[NewEvent]) -> StoredBatch:
        """All of ``events`` committed, or none of them (raises)."""
        ...

    async def close(self) -> None: ...


def driver_conninfo(database_url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it (``postgresql+psycopg://`` → ``postgresql://``)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class ConnectionStore:
    """Stores batches on one asyncio connection of its own, reopened when it breaks."""

    def __init__(self, database_url: str) -> None:
        self._conninfo = driver_conninfo(database_url)
        self._connection: psycopg.AsyncConnection[Any] | None = None

    async def _connected(self) -> psycopg.AsyncConnection[Any]:
        if self._connection is None or self._connection.closed:
            self._connection = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
            )
        return self._connection

    async def store(self, events: Sequence[NewEvent]) -> StoredBatch:
        connection = await self._connected()
        try:
            ids = await store_events_async(connection, events)
        except psycopg.Error:
            if connection.broken:
                await self.close()
            raise
        waiting = any(
            i is not None and e.outcome is PENDING for i, e in zip(ids, events, strict=True)
        )
        return StoredBatch(waiting=waiting)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


@dataclass
class _Waiting:
    event: NewEvent
    stored: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class WebhookIntake:
    """Stores submitted messages in group commits through ``store``.

    ``on_stored()`` is called (on the event loop) after each commit that left messages waiting
    to be applied, ``on_freed(org_id)`` for each org whose capacity an inline apply freed.
    """

    def __init__(
        self,
        store: BatchStore,
        *,
        on_stored: Callable[[], None],
        on_freed: Callable[[uuid.UUID], None],
    ) -> None:
        self._store = store
        self._on_stored = on_stored
        self._on_freed = on_freed
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

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
                stored = [await self._store.store([w.event for w in batch])]
            except Exception:
                # One message the database refuses must not fail the others with it.
                logger.warning("storing %d webhooks together failed", len(batch), exc_info=True)
                stored = await self._store_one_by_one(batch)
            else:
                for waiting in batch:
                    waiting.stored.set_result(None)
            self._after_commit(stored)

    async def _store_one_by_one(self, batch: Sequence[_Waiting]) -> list[StoredBatch]:
        stored: list[StoredBatch] = []
        for waiting in batch:
            try:
                stored.append(await self._store.store([waiting.event]))
            except Exception as error:
                logger.exception("could not store a webhook")
                waiting.stored.set_exception(error)
            else:
                waiting.stored.set_result(None)
        return stored

    def _after_commit(self, stored: Sequence[StoredBatch]) -> None:
        for org_id in {org_id for batch in stored for org_id in batch.freed_org_ids}:
            self._on_freed(org_id)
        if any(batch.waiting for batch in stored):
            self._on_stored()

    async def drain(self) -> None:
        """Wait until everything submitted so far is stored (tests, shutdown)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.gather(self._writer, return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
        await self._store.close()
