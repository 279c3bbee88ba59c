"""Follow-up work (a dispatch of an org whose capacity was freed, an apply of stored webhooks)
is enqueued merged per key, always after the request."""

from __future__ import annotations

import asyncio
import threading
import uuid

from orchestrator.webhooks.redispatch import Coalescer


def test_requests_for_one_org_during_the_wait_make_one_dispatch() -> None:
    enqueued: list[uuid.UUID] = []
    org_a, org_b = uuid.uuid4(), uuid.uuid4()

    async def scenario() -> None:
        redispatcher = Coalescer(enqueued.append, delay=0.05)
        for _ in range(20):
            redispatcher.request(org_a)
        redispatcher.request(org_b)
        assert enqueued == [], "a dispatch never runs inside the request"
        await redispatcher.drain()

    asyncio.run(scenario())
    assert sorted(enqueued) == sorted([org_a, org_b])


def test_a_request_after_the_dispatch_went_gets_a_dispatch_of_its_own() -> None:
    enqueued: list[uuid.UUID] = []
    org = uuid.uuid4()

    async def scenario() -> None:
        redispatcher = Coalescer(enqueued.append, delay=0.01)
        redispatcher.request(org)
        await redispatcher.drain()
        # Capacity freed after that dispatch was enqueued must not be left to the next tick.
        redispatcher.request(org)
        await redispatcher.drain()

    asyncio.run(scenario())
    assert enqueued == [org, org]


def test_the_enqueue_runs_off_the_event_loop_and_a_failure_is_only_logged() -> None:
    threads: list[int] = []

    def failing_enqueue(org_id: uuid.UUID) -> None:
        threads.append(threading.get_ident())
        raise ConnectionError("broker down")

    async def scenario() -> int:
        redispatcher = Coalescer(failing_enqueue, delay=0)
        redispatcher.request(uuid.uuid4())
        await redispatcher.drain()
        # The org is not stuck as waiting: the next request enqueues again.
        redispatcher.request(uuid.uuid4())
        await redispatcher.drain()
        return threading.get_ident()

    loop_thread = asyncio.run(scenario())
    assert len(threads) == 2
    assert loop_thread not in threads
