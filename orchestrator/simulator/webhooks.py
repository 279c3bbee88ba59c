"""Delivering a call's webhooks: one message at a time, with retries, faults and signing.

Each message is the JSON body ``{"message": {...}}`` POSTed to the call's server URL with the
server's headers. A call's messages go out one at a time from its own outbox, so a slow
receiver delays delivery but never the call's timeline (as with Vapi). Every outbox posts
through the simulator's one ``webhook_client.WebhookClient``, whose keep-alive connections to a
target are shared by all calls. A delivery is retried on connection errors and 5xx answers
with exponential backoff.

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

import orjson

from orchestrator.simulator.faults import DeliveryPlan, plan_delivery
from orchestrator.simulator.state import SimulatorConfig, SimulatorState
from orchestrator.simulator.webhook_client import (
    Target,
    WebhookClient,
    WebhookTransportError,
    parse_target,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 1.0
TIMESTAMP_HEADER = "x-timestamp"
SIGNATURE_HEADER = "x-signature"
# Headers the sender sets itself: a server's own values for them are left out.
FRAMING_HEADERS = frozenset({"host", "content-length", "content-type", "transfer-encoding"})
SIGNING_HEADERS = frozenset({TIMESTAMP_HEADER, SIGNATURE_HEADER})

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
    """The exact bytes a message is sent (and signed) as: compact JSON, UTF-8."""
    try:
        return orjson.dumps(message)
    except TypeError:
        # What orjson refuses (an integer beyond 64 bits a request carried), json writes.
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``f"{timestamp}.{body}"``."""
    signed = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _header_line(name: str, value: str) -> bytes:
    line = f"{name}: {value}\r\n"
    if any(c in "\r\n\0" for c in line[:-2]):
        raise ValueError(f"header {name!r} has a line break or NUL in it")
    return line.encode()


@dataclass(frozen=True, slots=True)
class Destination:
    """A server's URL and headers, made once into what every POST to it starts with."""

    target: Target
    prefix: bytes

    @classmethod
    def of(cls, server: dict[str, Any], *, signed: bool) -> Destination:
        """Raises ``ValueError`` for a URL or headers no request can carry."""
        target = parse_target(str(server["url"]))
        skipped = (
            FRAMING_HEADERS | {TIMESTAMP_HEADER, SIGNATURE_HEADER} if signed else FRAMING_HEADERS
        )
        lines = [f"POST {target.path} HTTP/1.1\r\n".encode(), _header_line("host", target.netloc)]
        for name, value in (server.get("headers") or {}).items():
            if str(name).lower() not in skipped:
                lines.append(_header_line(str(name), str(value)))
        lines.append(b"content-type: application/json\r\n")
        return cls(target, b"".join(lines))


class WebhookSender:
    """POSTs encoded messages, retrying transport errors and 5xx; outcomes go to the stats."""

    def __init__(
        self, state: SimulatorState, config: SimulatorConfig, client: WebhookClient
    ) -> None:
        self._state = state
        self._config = config
        self._client = client

    def destination(self, server: dict[str, Any]) -> Destination | None:
        """Where a server's webhooks go; None (each one then fails) if they cannot go there."""
        try:
            return Destination.of(server, signed=bool(self._config.webhook_hmac_secret))
        except ValueError as exc:
            logger.warning("webhooks to %r cannot be sent: %s", server.get("url"), exc)
            return None

    def _head(self, destination: Destination, body: bytes) -> bytes:
        head = destination.prefix + b"content-length: %d\r\n" % len(body)
        if secret := self._config.webhook_hmac_secret:
            timestamp = str(int(time.time()))
            signature = sign(secret, timestamp, body)
            head += (
                f"{TIMESTAMP_HEADER}: {timestamp}\r\n{SIGNATURE_HEADER}: {signature}\r\n".encode()
            )
        return head + b"\r\n"

    async def deliver(self, destination: Destination | None, body: bytes, kind: str) -> bool:
        delivered = False
        if destination is not None:
            delivered, problem = await self._attempts(destination, body)
            if not delivered:
                url = destination.target.url
                logger.warning("webhook %s to %s not delivered: %s", kind, url, problem)
        await self._state.record_delivery(delivered=delivered)
        return delivered

    async def _attempts(self, destination: Destination, body: bytes) -> tuple[bool, str]:
        config = self._config
        problem = "not attempted"
        for attempt in range(config.webhook_retries + 1):
            if attempt:
                backoff = config.webhook_backoff_seconds * 2 ** (attempt - 1)
                await asyncio.sleep(min(backoff, MAX_BACKOFF_SECONDS))
            head = self._head(destination, body)
            try:
                status = await self._client.post(destination.target, head, body)
            except WebhookTransportError as exc:
                problem = str(exc)
                continue
            problem = f"HTTP {status}"
            if status < 500:
                return 200 <= status < 300, problem
        return False, problem


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
        destination = self._sender.destination(server)
        held: list[_Pending] = []
        while (item := await self._queue.get()) is not None:
            if item.plan.drop:
                await self._count_fault("drop")
                if item.plan.whole_call and item.kind == "end-of-call-report":
                    await self._count_fault("drop_call")
            elif item.plan.hold_back:
                held.append(item)
            else:
                await self._send(destination, item)
                for late in held:
                    await self._count_fault("reorder")
                    await self._send(destination, late)
                held.clear()
        # Held back with nothing delivered after them: they go out last, still in order.
        for late in held:
            await self._send(destination, late)

    async def _send(self, destination: Destination | None, item: _Pending) -> None:
        if item.plan.delay_seconds > 0:
            await self._count_fault("delay")
            await asyncio.sleep(item.plan.delay_seconds)
        await self._sender.deliver(destination, item.body, item.kind)
        if item.plan.duplicate:
            await self._count_fault("dup")
            await asyncio.sleep(self._config.faults.dup_gap)
            await self._sender.deliver(destination, item.body, item.kind)
