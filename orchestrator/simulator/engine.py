"""Plays each created call on a timeline and posts Vapi server messages about it.

Timeline of a dialed call (durations from ``outcomes.decide_outcome``)::

    queued --(SETUP_SHARE of ring time)--> ringing --(rest of ring time)--> in-progress
           --(talk time)--> ended, then end-of-call-report

Calls that are never answered (no answer, busy) end where ``in-progress`` would start, without
``startedAt``. A ``twilio-failed-to-connect-call`` never rings: it ends after its ring time with
no ``ringing`` message. A call refused by the concurrency limit ends at once.

Each message is the body ``{"message": {...}}`` posted to the call's server URL with the
server's headers. Messages of one call go out one at a time and in order, from a per-call outbox,
so a slow webhook receiver delays delivery but never the call's own timeline (as with Vapi).
A delivery is retried on connection errors and 5xx answers with exponential backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

import httpx

from orchestrator.simulator.state import CallRecord, SimulatorConfig, SimulatorState

logger = logging.getLogger(__name__)

SETUP_SHARE = 0.2
MAX_BACKOFF_SECONDS = 1.0

Message = dict[str, Any]


def _envelope(message_type: str, call: dict[str, Any]) -> Message:
    return {
        "type": message_type,
        "timestamp": int(time.time() * 1000),
        "call": call,
        "customer": call["customer"],
        "phoneNumber": {"id": call["phoneNumberId"]},
    }


def status_update(call: dict[str, Any]) -> Message:
    """A ``status-update`` for the call's current status (with ``endedReason`` once ended)."""
    message = _envelope("status-update", call)
    message["status"] = call["status"]
    if call["status"] == "ended":
        message["endedReason"] = call["endedReason"]
    return {"message": message}


def end_of_call_report(call: dict[str, Any]) -> Message:
    message = _envelope("end-of-call-report", call)
    message.update(
        endedReason=call["endedReason"],
        startedAt=call["startedAt"],
        endedAt=call["endedAt"],
        cost=call["cost"],
        analysis=call["analysis"],
        artifact=call["artifact"],
    )
    return {"message": message}


class _Outbox:
    """Delivers one call's messages sequentially; discards them when there is no server URL."""

    def __init__(self, engine: CallEngine, server: dict[str, Any] | None) -> None:
        self._engine = engine
        self._server = server
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None
        if server is not None:
            self._sender = engine.spawn(self._drain(server), name="webhook-outbox")

    def put(self, message: Message) -> None:
        if self._sender is not None:
            self._queue.put_nowait(message)

    async def close(self) -> None:
        """Wait until everything queued has been delivered or given up on."""
        if self._sender is not None:
            self._queue.put_nowait(None)
            await asyncio.shield(self._sender)

    def cancel(self) -> None:
        if self._sender is not None:
            self._sender.cancel()

    async def _drain(self, server: dict[str, Any]) -> None:
        url = str(server["url"])
        raw_headers = server.get("headers") or {}
        headers = {str(key): str(value) for key, value in raw_headers.items()}
        while (message := await self._queue.get()) is not None:
            await self._engine.deliver(url, headers, message)


class CallEngine:
    def __init__(
        self, state: SimulatorState, config: SimulatorConfig, http: httpx.AsyncClient
    ) -> None:
        self._state = state
        self._config = config
        self._http = http
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("simulator task %s failed", task.get_name(), exc_info=exc)

    def start(self, record: CallRecord) -> None:
        self.spawn(self._play(record), name=f"call-{record.id}")

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _play(self, record: CallRecord) -> None:
        outbox = _Outbox(self, record.server)
        try:
            await self._timeline(record, outbox)
            await outbox.close()
        finally:
            outbox.cancel()

    async def _timeline(self, record: CallRecord, outbox: _Outbox) -> None:
        outcome = record.outcome
        if outcome is None:
            await self._end(record, outbox)
            return
        setup = outcome.ring_seconds * SETUP_SHARE
        if outcome.rings:
            await asyncio.sleep(setup)
            await self._move(record, "ringing", outbox)
        await asyncio.sleep(outcome.ring_seconds - setup if outcome.rings else outcome.ring_seconds)
        if outcome.answered:
            await self._move(record, "in-progress", outbox)
            await asyncio.sleep(outcome.talk_seconds)
        await self._end(record, outbox)

    async def _move(self, record: CallRecord, status: str, outbox: _Outbox) -> None:
        call = await self._state.set_status(record.id, status)
        if call is not None:
            outbox.put(status_update(call))

    async def _end(self, record: CallRecord, outbox: _Outbox) -> None:
        call = await self._state.end_call(record.id)
        if call is not None:
            outbox.put(status_update(call))
            outbox.put(end_of_call_report(call))

    async def deliver(self, url: str, headers: dict[str, str], body: Message) -> bool:
        """POST one message, retrying transport errors and 5xx; the outcome goes to the stats."""
        config = self._config
        problem = "not attempted"
        delivered = False
        for attempt in range(config.webhook_retries + 1):
            if attempt:
                backoff = config.webhook_backoff_seconds * 2 ** (attempt - 1)
                await asyncio.sleep(min(backoff, MAX_BACKOFF_SECONDS))
            try:
                response = await self._http.post(url, json=body, headers=headers)
            except httpx.TransportError as exc:
                problem = type(exc).__name__
                continue
            problem = f"HTTP {response.status_code}"
            if response.status_code < 500:
                delivered = response.is_success
                break
        if not delivered:
            kind = body["message"]["type"]
            logger.warning("webhook %s to %s not delivered: %s", kind, url, problem)
        await self._state.record_delivery(delivered=delivered)
        return delivered
