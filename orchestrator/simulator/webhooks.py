"""Delivering a call's webhooks: one message at a time, with retries, faults and signing.

Each message is the JSON body ``{"message": {...}}`` POSTed to the call's server URL with the
server's headers. A call's messages go out one at a time from its own outbox, so a slow
receiver delays delivery but never the call's timeline (as with Vapi). A delivery is retried on
connection errors and 5xx answers with exponential backoff.

Faults (``faults.plan_delivery``) are applied here: a dropped message is skipped, a held-back
one goes out right after the next delivered message, a delayed one waits before it is sent,
and a duplicated one is sent again ``dup_gap`` seconds later, byte for byte.

Signing. With ``SimulatorConfig.webhook_hmac_secret`` set, every POST (each retry and each
duplicate included) also carries ``x-timestamp``, the Unix time in whole seconds when that POST
is made, and ``x-signature``, the lowercase hex HMAC-SHA256 under the secret of
``f"{timestamp}.".encode() + body``, where ``body`` is exactly the bytes sent (compact JSON,
UTF-8).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from orchestrator.simulator.faults import DeliveryPlan, plan_delivery
from orchestrator.simulator.state import SimulatorConfig, SimulatorState

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 1.0
TIMESTAMP_HEADER = "x-timestamp"
SIGNATURE_HEADER = "x-signature"

Message = dict[str, Any]
Spawn = Callable[[Coroutine[Any, Any, None], str], asyncio.Task[None]]
CountFault = Callable[[str], Awaitable[None]]


class Source(Protocol):
    """What an outbox sends for (a call, or a text's exchange): where to, and the identity its
    fault decisions use."""

    @property
    def server(self) -> dict[str, Any] | None: ...

    @property
    def number(self) -> str: ...

    @property
    def request_index(self) -> int: ...


def encode(message: Message) -> bytes:
    """The exact bytes a message is sent (and signed) as."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``f"{timestamp}.{body}"``."""
    signed = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


class WebhookSender:
    """POSTs encoded messages, retrying transport errors and 5xx; outcomes go to the stats."""

    def __init__(
        self, state: SimulatorState, config: SimulatorConfig, http: httpx.AsyncClient
    ) -> None:
        self._state = state
        self._config = config
        self._http = http

    def _headers(self, server_headers: dict[str, str], body: bytes) -> httpx.Headers:
        headers = httpx.Headers(server_headers)
        headers["content-type"] = "application/json"
        if secret := self._config.webhook_hmac_secret:
            timestamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
        return headers

    async def deliver(self, url: str, headers: dict[str, str], body: bytes, kind: str) -> bool:
        config = self._config
        problem = "not attempted"
        delivered = False
        for attempt in range(config.webhook_retries + 1):
            if attempt:
                backoff = config.webhook_backoff_seconds * 2 ** (attempt - 1)
                await asyncio.sleep(min(backoff, MAX_BACKOFF_SECONDS))
            try:
                response = await self._http.post(
                    url, content=body, headers=self._headers(headers, body)
                )
            except httpx.TransportError as exc:
                problem = type(exc).__name__
                continue
            problem = f"HTTP {response.status_code}"
            if response.status_code < 500:
                delivered = response.is_success
                break
        if not delivered:
            logger.warning("webhook %s to %s not delivered: %s", kind, url, problem)
        await self._state.record_delivery(delivered=delivered)
        return delivered


@dataclass(frozen=True, slots=True)
class _Pending:
    kind: str
    body: bytes
    plan: DeliveryPlan


class Outbox:
    """One call's (or one text exchange's) messages, delivered in order (unless faults say
    otherwise). Fired faults are counted by ``count_fault``, the state's by default.

    Without a server URL, messages are discarded (and no fault is counted). ``first_index`` is
    the message index of the first message put: a call finished after a restart continues
    from the messages its previous run had already sent, so its fault plan does too.
    """

    def __init__(
        self,
        record: Source,
        *,
        sender: WebhookSender,
        state: SimulatorState,
        config: SimulatorConfig,
        spawn: Spawn,
        first_index: int = 0,
        count_fault: CountFault | None = None,
    ) -> None:
        self._record = record
        self._sender = sender
        self._count_fault = count_fault or state.count_fault
        self._config = config
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._next_index = first_index
        self._drainer: asyncio.Task[None] | None = None
        if (server := record.server) is not None:
            self._drainer = spawn(self._drain(server), "webhook-outbox")

    def put(self, message: Message, *, last: bool = False) -> None:
        """Queue a message; ``last`` (like an end-of-call-report) is never held back."""
        if self._drainer is None:
            return
        kind = str(message["message"]["type"])
        plan = plan_delivery(
            self._config.faults,
            seed=self._config.seed,
            number=self._record.number,
            request_index=self._record.request_index,
            message_index=self._next_index,
            last=last or kind == "end-of-call-report",
        )
        self._next_index += 1
        self._queue.put_nowait(_Pending(kind, encode(message), plan))

    async def close(self) -> None:
        """Wait until everything queued has been delivered or given up on."""
        if self._drainer is not None:
            self._queue.put_nowait(None)
            await asyncio.shield(self._drainer)

    def cancel(self) -> None:
        if self._drainer is not None:
            self._drainer.cancel()

    async def _drain(self, server: dict[str, Any]) -> None:
        url = str(server["url"])
        raw_headers = server.get("headers") or {}
        headers = {str(key): str(value) for key, value in raw_headers.items()}
        held: list[_Pending] = []
        while (item := await self._queue.get()) is not None:
            if item.plan.drop:
                await self._count_fault("drop")
                if item.plan.whole_call and item.kind == "end-of-call-report":
                    await self._count_fault("drop_call")
            elif item.plan.hold_back:
                held.append(item)
            else:
                await self._send(url, headers, item)
                for late in held:
                    await self._count_fault("reorder")
                    await self._send(url, headers, late)
                held.clear()
        # Held back with nothing delivered after them: they go out last, still in order.
        for late in held:
            await self._send(url, headers, late)

    async def _send(self, url: str, headers: dict[str, str], item: _Pending) -> None:
        if item.plan.delay_seconds > 0:
            await self._count_fault("delay")
            await asyncio.sleep(item.plan.delay_seconds)
        await self._sender.deliver(url, headers, item.body, item.kind)
        if item.plan.duplicate:
            await self._count_fault("dup")
            await asyncio.sleep(self._config.faults.dup_gap)
            await self._sender.deliver(url, headers, item.body, item.kind)
