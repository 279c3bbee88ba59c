"""The simulator's webhook client against real sockets: answers, keep-alive, limits, failures.

Each test runs a small HTTP/1.1 server of its own on a loopback port (asyncio streams), shaped
to answer as the case needs, and the client in the same event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from orchestrator.simulator.webhook_client import (
    WebhookClient,
    WebhookTransportError,
    parse_target,
)

Answer = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]


@dataclass
class Server:
    """Reads requests (with a content-length body) and lets ``answer`` reply; ``answer``
    returns whether the connection stays open."""

    answer: Answer
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    bodies: list[bytes] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = _content_length(head)
                body = await reader.readexactly(length)
                self.bodies.append(body)
                if not await self.answer(body, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open_now -= 1
            writer.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


async def ok(_: bytes, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
    await writer.drain()
    return True


def run_with(answer: Answer, scenario: Callable[[str, Server], Awaitable[None]]) -> Server:
    async def main() -> Server:
        server = Server(answer)
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        async with listener:
            await scenario(f"http://127.0.0.1:{port}/hook?x=1", server)
        return server

    return asyncio.run(main())


def head_for(url: str, body: bytes) -> bytes:
    target = parse_target(url)
    return (
        f"POST {target.path} HTTP/1.1\r\nhost: {target.netloc}\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode()


async def post(client: WebhookClient, url: str, body: bytes) -> int:
    return await client.post(parse_target(url), head_for(url, body), body)


def test_sequential_posts_reuse_one_connection() -> None:
    async def scenario(url: str, _: Server) -> None:
        client = WebhookClient(timeout=5.0)
        statuses = [await post(client, url, b'{"n":%d}' % n) for n in range(50)]
        await client.aclose()
        assert statuses == [200] * 50

    server = run_with(ok, scenario)
    assert server.connections == 1
    assert server.bodies == [b'{"n":%d}' % n for n in range(50)]


def test_concurrent_posts_open_at_most_the_limit_and_all_arrive() -> None:
    async def slow(body: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.01)
        return await ok(body, writer)

    async def scenario(url: str, _: Server) -> None:
        client = WebhookClient(timeout=5.0, max_connections=4)
        statuses = await asyncio.gather(*(post(client, url, b"%d" % n) for n in range(60)))
        await client.aclose()
        assert statuses == [200] * 60

    server = run_with(slow, scenario)
    assert server.most_open == 4
    assert sorted(server.bodies, key=int) == [b"%d" % n for n in range(60)]


def test_the_status_comes_back_whatever_the_framing() -> None:
    answers = iter(
        [
            b"HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 1\r\n\r\nx",
        ]
    )

    async def framed(_: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(next(answers))
        await writer.drain()
        return True

    async def scenario(url: str, _: Server) -> None:
        client = WebhookClient(timeout=5.0)
        assert [await post(client, url, b"{}") for _ in range(3)] == [201, 404, 503]
        await client.aclose()

    assert run_with(framed, scenario).connections == 1


def test_an_answer_ended_by_closing_the_connection_counts_and_the_next_post_reconnects() -> None:
    async def until_close(_: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nbody until the end")
        await writer.drain()
        return False

    async def scenario(url: str, _: Server) -> None:
        client = WebhookClient(timeout=5.0)
        assert [await post(client, url, b"{}") for _ in range(3)] == [200, 200, 200]
        await client.aclose()

    assert run_with(until_close, scenario).connections == 3


def test_a_kept_connection_the_target_closed_is_replaced_without_a_failure() -> None:
    async def ok_then_idle_close(body: bytes, writer: asyncio.StreamWriter) -> bool:
        await ok(body, writer)
        # Like a server's keep-alive timeout: the connection is closed while idle.
        return False

    async def scenario(url: str, _: Server) -> None:
        client = WebhookClient(timeout=5.0)
        for _attempt in range(5):
            assert await post(client, url, b"{}") == 200
        await client.aclose()

    server = run_with(ok_then_idle_close, scenario)
    assert len(server.bodies) == 5


def test_a_post_a_reused_connection_lost_unanswered_is_sent_again_on_a_new_one() -> None:
    """A keep-alive target may close a connection just as a request goes out on it."""
    # Keyed by the writer itself, held here: an id could be reused by a later connection.
    served: dict[asyncio.StreamWriter, int] = {}

    async def one_per_connection(body: bytes, writer: asyncio.StreamWriter) -> bool:
        served[writer] = served.get(writer, 0) + 1
        if served[writer] > 1:
            return False  # hangs up on the second request without answering
        return await ok(body, writer)

    async def scenario(url: str, _: Server) -> None:
        client = WebhookClient(timeout=5.0)
        assert [await post(client, url, b"{}") for _ in range(3)] == [200, 200, 200]
        await client.aclose()

    server = run_with(one_per_connection, scenario)
    assert server.connections == 3
    # Each lost request was received once where it was lost and once where it was answered.
    assert len(server.bodies) == 5


def test_a_target_that_never_answers_times_out() -> None:
    async def silent(_: bytes, __: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(5)
        return False

    async def scenario(url: str, _: Server) -> None:
        client = WebhookClient(timeout=0.2)
        started = time.monotonic()
        with pytest.raises(WebhookTransportError, match="no answer in time"):
            await post(client, url, b"{}")
        assert time.monotonic() - started < 2
        await client.aclose()

    run_with(silent, scenario)


def test_a_target_that_hangs_up_without_answering_fails_the_post() -> None:
    async def hang_up(_: bytes, __: asyncio.StreamWriter) -> bool:
        return False

    async def scenario(url: str, _: Server) -> None:
        client = WebhookClient(timeout=5.0)
        with pytest.raises(WebhookTransportError, match="connection lost"):
            await post(client, url, b"{}")
        await client.aclose()

    run_with(hang_up, scenario)


def test_nothing_listening_fails_the_post() -> None:
    async def main() -> None:
        listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        listener.close()
        await listener.wait_closed()
        client = WebhookClient(timeout=5.0)
        with pytest.raises(WebhookTransportError, match="cannot connect"):
            await post(client, f"http://127.0.0.1:{port}/hook", b"{}")
        await client.aclose()

    asyncio.run(main())


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "http:///path"])
def test_urls_no_webhook_can_go_to_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        parse_target(url)


def test_a_target_carries_its_request_path_and_host() -> None:
    target = parse_target("https://hooks.example.com/a/b?c=1")
    assert (target.host, target.port, target.path) == ("hooks.example.com", 443, "/a/b?c=1")
    assert target.url == "https://hooks.example.com/a/b?c=1"
    assert parse_target("http://127.0.0.1:8000").path == "/"
