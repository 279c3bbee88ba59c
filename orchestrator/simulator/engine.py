"""Plays each created call on a timeline and posts Vapi server messages about it.

Timeline of a dialed call (durations from ``outcomes.decide_outcome``)::

    queued --(SETUP_SHARE of ring time)--> ringing --(rest of ring time)--> in-progress
           --(talk time)--> ended, then end-of-call-report

Calls that are never answered (no answer, busy) end where ``in-progress`` would start, without
``startedAt``. A ``twilio-failed-to-connect-call`` never rings: it ends after its ring time with
no ``ringing`` message. A call refused by the concurrency limit ends at once.

Each message goes to the call's outbox (``webhooks.Outbox``), which delivers the call's
messages one at a time, applying the configured faults and signing. A call ended on start
because the previous run stopped in its middle (see ``journal``) gets only its ``ended`` and
report, planned as the call's next messages. Forgetting a call stops its timeline and outbox.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Coroutine
from typing import Any

from orchestrator.simulator.ledger import Interrupted
from orchestrator.simulator.records import CallRecord
from orchestrator.simulator.state import SimulatorConfig, SimulatorState
from orchestrator.simulator.webhook_client import WebhookClient
from orchestrator.simulator.webhooks import Message, Outbox, WebhookSender

logger = logging.getLogger(__name__)

SETUP_SHARE = 0.2
# The status-updates a call has been sent once it reached a status: its next message's index.
STATUS_UPDATES_BEFORE = {"queued": 0, "ringing": 1, "in-progress": 2, "forwarding": 3}


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


class CallEngine:
    def __init__(self, state: SimulatorState, config: SimulatorConfig, http: WebhookClient) -> None:
        self._state = state
        self._config = config
        self._sender = WebhookSender(state, config, http)
        self._tasks: set[asyncio.Task[None]] = set()
        # A call's timeline and outbox tasks, so that forgetting it stops them.
        self._by_call: dict[str, set[asyncio.Task[None]]] = {}

    def spawn(
        self, coro: Coroutine[Any, Any, None], name: str, call_id: str | None = None
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        if call_id is not None:
            self._by_call.setdefault(call_id, set()).add(task)
        task.add_done_callback(functools.partial(self._reap, call_id))
        return task

    def _reap(self, call_id: str | None, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if call_id is not None and (tasks := self._by_call.get(call_id)) is not None:
            tasks.discard(task)
            if not tasks:
                del self._by_call[call_id]
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("simulator task %s failed", task.get_name(), exc_info=exc)

    @property
    def idle(self) -> bool:
        """No call's timeline is running and no webhook waits to be sent (or given up on)."""
        return not self._tasks

    def start(self, record: CallRecord) -> None:
        self.spawn(self._play(record), f"call-{record.id}", record.id)

    def finish(self, cut: Interrupted) -> None:
        """Send the webhooks of a call ended on start (see ``journal``)."""
        self.spawn(self._report_end(cut), f"call-end-{cut.record.id}", cut.record.id)

    async def forget(self, call_ids: list[str]) -> None:
        """Stop the timelines and outboxes of these calls: nothing more is sent for them."""
        tasks = [task for call_id in call_ids for task in self._by_call.get(call_id, ())]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _outbox(self, record: CallRecord, first_index: int = 0) -> Outbox:
        def spawn(coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
            return self.spawn(coro, name, record.id)

        return Outbox(
            record,
            sender=self._sender,
            state=self._state,
            config=self._config,
            spawn=spawn,
            first_index=first_index,
        )

    async def _play(self, record: CallRecord) -> None:
        outbox = self._outbox(record)
        try:
            await self._timeline(record, outbox)
            await outbox.close()
        finally:
            outbox.cancel()

    async def _report_end(self, cut: Interrupted) -> None:
        outbox = self._outbox(cut.record, STATUS_UPDATES_BEFORE.get(cut.status, 0))
        try:
            call = cut.record.to_json()
            outbox.put(status_update(call))
            outbox.put(end_of_call_report(call))
            await outbox.close()
        finally:
            outbox.cancel()

    async def _timeline(self, record: CallRecord, outbox: Outbox) -> None:
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

    async def _move(self, record: CallRecord, status: str, outbox: Outbox) -> None:
        call = await self._state.set_status(record.id, status)
        if call is not None:
            outbox.put(status_update(call))

    async def _end(self, record: CallRecord, outbox: Outbox) -> None:
        call = await self._state.end_call(record.id)
        if call is not None:
            outbox.put(status_update(call))
            outbox.put(end_of_call_report(call))
