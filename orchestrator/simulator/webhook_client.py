"""The simulator's HTTP client for webhooks: POSTs over pooled keep-alive HTTP/1.1 connections.

A general-purpose client (httpx) costs far more CPU per request than the simulator's own work,
and its connection pool scans every waiting request on every checkout, which grows with the
calls in flight. Webhooks need little: one POST of a known body, its status code, and a
connection to reuse. So each target origin (scheme, host, port) gets one pool of at most
``max_connections`` connections, the most recently used idle one taken first; requests
beyond that wait their turn, first come first served, without a time limit. Connecting and
each exchange have ``timeout`` seconds. A request on a reused connection that the target
closed before answering is sent once more on a new connection (a target closes idle
connections whenever it likes); any other failure raises ``WebhookTransportError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from functools import lru_cache
from typing import NamedTuple, cast
from urllib.parse import urlsplit

import httptools

DEFAULT_PORTS = {"http": 80, "https": 443}
# Idle connections kept per origin beyond which released ones are closed.
MAX_IDLE_PER_ORIGIN = 100


class WebhookTransportError(Exception):
    """The POST got no answer: the connection failed, was lost, or timed out."""


class Target(NamedTuple):
    """A parsed webhook URL: where to connect, and the request line and Host it needs."""

    scheme: str
    host: str
    port: int
    netloc: str
    path: str

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.path}"


@lru_cache(maxsize=1024)
def parse_target(url: str) -> Target:
    """``url`` split once; raises ``ValueError`` for one a webhook cannot go to."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    return Target(parts.scheme, parts.hostname, port, parts.netloc, path)


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one exchange at a time."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[int] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._status = 0
        self._heard = False
        # Whether an exchange was answered on it: a connection that was, is being reused.
        self.answered_any = False
        # The target closed it while an exchange waited and before a byte of the answer came.
        self.closed_unheard = False
        self.reusable = True
        self.closed = False

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without deriving from it.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._heard = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(WebhookTransportError(f"bad answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        if self._status:
            # An answer delimited by the connection's end: complete now.
            self._finish()
        else:
            self.closed_unheard = self._waiter is not None and not self._heard
            self._fail(WebhookTransportError(f"connection lost: {exc or 'closed by the target'}"))

    # -- httptools callbacks
    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()

    def on_message_complete(self) -> None:
        if 100 <= self._status < 200:
            self._status = 0  # an interim answer: the real one follows
            return
        self.reusable = self.reusable and self._parser.should_keep_alive()
        self._finish()

    # -- the exchange
    def exchange(self, request: bytes, timeout: float) -> asyncio.Future[int]:
        """Send ``request``; the future gets the answer's status code."""
        assert self._transport is not None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[int] = loop.create_future()
        self._waiter, self._status, self._heard = waiter, 0, False
        self._timer = loop.call_later(timeout, self._time_out)
        self._transport.write(request)
        return waiter

    def _time_out(self) -> None:
        self._fail(WebhookTransportError("no answer in time"))

    def _finish(self) -> None:
        status, self._status = self._status, 0
        waiter, self._waiter = self._waiter, None
        self._stop_timer()
        self.answered_any = True
        if waiter is not None and not waiter.done():
            waiter.set_result(status)

    def _fail(self, exc: WebhookTransportError) -> None:
        waiter, self._waiter = self._waiter, None
        self._stop_timer()
        self.close()
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close(self) -> None:
        self.reusable = False
        if self._transport is not None and not self.closed:
            self.closed = True
            self._transport.abort()


class _Pool:
    """The connections to one origin: at most ``limit`` open, idle ones reused newest first."""

    def __init__(self, origin: tuple[str, str, int], limit: int, timeout: float) -> None:
        self._origin = origin
        self._limit = limit
        self._timeout = timeout
        self._idle: list[_Connection] = []
        self._open = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> _Connection:
        while True:
            while self._idle:
                connection = self._idle.pop()
                if not connection.closed:
                    return connection
                self._open -= 1
            if self._open < self._limit:
                break
            await self._wait_turn()
        self._open += 1
        try:
            return await self._connect()
        except BaseException:
            self._open -= 1
            self._wake_next()
            raise

    async def _wait_turn(self) -> None:
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            await turn
        except BaseException:
            # A turn handed over just as this waiter left must pass to the next one.
            if turn.done() and not turn.cancelled():
                self._wake_next()
            raise

    async def _connect(self) -> _Connection:
        scheme, host, port = self._origin
        loop = asyncio.get_running_loop()
        tls = _tls_context() if scheme == "https" else None
        try:
            async with asyncio.timeout(self._timeout):
                _, connection = await loop.create_connection(
                    _Connection, host, port, ssl=tls, server_hostname=host if tls else None
                )
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            raise WebhookTransportError(f"cannot connect: {exc!r}") from exc
        return connection

    def release(self, connection: _Connection) -> None:
        if connection.reusable and not connection.closed and len(self._idle) < MAX_IDLE_PER_ORIGIN:
            self._idle.append(connection)
        else:
            connection.close()
            self._open -= 1
        self._wake_next()

    def _wake_next(self) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class WebhookClient:
    """POSTs webhooks; one pool of keep-alive connections per origin (see the module)."""

    def __init__(self, *, timeout: float, max_connections: int = 100) -> None:
        self._timeout = timeout
        self._max_connections = max_connections
        self._pools: dict[tuple[str, str, int], _Pool] = {}

    async def post(self, target: Target, head: bytes, body: bytes) -> int:
        """POST ``body`` with ``head`` (the request line and headers, up to and including the
        blank line) to ``target``; returns the answer's status code."""
        pool = self._pools.get(target.origin)
        if pool is None:
            pool = self._pools[target.origin] = _Pool(
                target.origin, self._max_connections, self._timeout
            )
        request = head + body
        for _ in range(2):
            connection = await pool.acquire()
            reused = connection.answered_any
            try:
                status = await connection.exchange(request, self._timeout)
            except WebhookTransportError:
                pool.release(connection)
                if reused and connection.closed_unheard:
                    continue
                raise
            except BaseException:
                connection.close()
                pool.release(connection)
                raise
            pool.release(connection)
            return status
        raise WebhookTransportError("the target closed two connections without answering")

    async def aclose(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        # Let the transports' close callbacks run before the loop goes away.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0)
