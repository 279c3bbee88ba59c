"""Many calls at once: each call's webhooks still arrive in its order, and the stats are exact.

Calls are posted from several threads at the same time, so that many calls' messages share the
simulator's connections to the receiver; some numbers are dialed twice and some calls'
webhooks go to an address where nothing listens.
"""

from __future__ import annotations

import socket
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from orchestrator.simulator.outcomes import decide_outcome
from tests.simulator.test_app import EXPECTED_SEQUENCES, steps
from tests.support.simulators import StartSimulator
from tests.support.webhook_receiver import WebhookReceiver

CALLS = 120
PHONES = ("pn-load-a", "pn-load-b", "pn-load-c")
# Every tenth number is dialed twice; every fifteenth call's webhooks go nowhere.
REDIALED = {f"+1666{i:07d}" for i in range(0, CALLS // 2, 10)}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_each_calls_webhooks_keep_their_order_and_the_stats_count_every_one(
    start_simulator: StartSimulator, receiver: WebhookReceiver
) -> None:
    handle = start_simulator(webhook_retries=1, webhook_backoff_seconds=0.001)
    nowhere = {"url": f"http://127.0.0.1:{_closed_port()}/webhook"}
    numbers = [f"+1666{i:07d}" for i in range(CALLS - len(REDIALED))] + sorted(REDIALED)
    lost = set(range(0, CALLS, 15))

    def place(index: int) -> httpx.Response:
        server = nowhere if index in lost else receiver.server()
        body = {
            "assistantId": "asst-1",
            "phoneNumberId": PHONES[index % len(PHONES)],
            "customer": {"number": numbers[index]},
            "assistantOverrides": {"server": server},
        }
        return httpx.post(f"{handle.base_url}/call", json=body, headers=handle.auth_headers)

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(place, range(CALLS)))
    assert [answer.status_code for answer in answers] == [201] * CALLS
    handle.drain()

    dials: Counter[str] = Counter()
    expected_undelivered = 0
    for index, answer in enumerate(answers):
        number = numbers[index]
        dials[number] += 1
        outcome = decide_outcome(number=number, attempt=dials[number], seed=0, profile="instant")
        expected = EXPECTED_SEQUENCES[outcome.ended_reason]
        messages = receiver.for_call(answer.json()["id"])
        if index in lost:
            assert messages == []
            expected_undelivered += len(expected)
        else:
            assert steps(messages) == expected, index

    stats = httpx.get(f"{handle.base_url}/simulator/stats").json()
    assert stats["callsPlaced"] == CALLS
    assert stats["inFlight"] == 0
    assert stats["webhooksSent"] == len(receiver.received)
    assert stats["webhookFailures"] == expected_undelivered
    assert stats["numbersDialedMoreThanOnce"] == sorted(REDIALED)
    assert sum(stats["endedReasons"].values()) == CALLS
    assert set(stats["maxCallsPerSecondByPhoneNumber"]) == set(PHONES)
    listed = httpx.get(
        f"{handle.base_url}/call", params={"limit": 1000}, headers=handle.auth_headers
    ).json()
    assert sorted(call["id"] for call in listed) == sorted(a.json()["id"] for a in answers)
