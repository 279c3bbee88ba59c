"""Each simulator fault observed over real HTTP, against the simulator's ground truth."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from orchestrator.providers import (
    CreateCallRequest,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
    VapiClient,
)
from orchestrator.simulator.faults import (
    FAULT_COUNTERS,
    SERVER_ERROR_STATUSES,
    CreateFault,
    FaultSpec,
    decide_create,
    fault_uniform,
    plan_delivery,
)
from orchestrator.simulator.outcomes import CUSTOMER_ENDED, NO_ANSWER, VOICEMAIL, decide_outcome
from tests.support.raw_receiver import RECEIVER_SECRET, RawReceiver, raw_receiver
from tests.support.servers import wait_until
from tests.support.simulators import SimulatorHandle, StartSimulator

PHONE = "pn-faults"
FULL_CALL = ["ringing", "in-progress", "ended", "report"]
FindNumber = Callable[..., str]


@pytest.fixture
def receiver() -> Iterator[RawReceiver]:
    with raw_receiver() as receiver:
        yield receiver


def call_body(number: str, receiver: RawReceiver | None = None) -> dict[str, Any]:
    overrides: dict[str, Any] = {"metadata": {"contactId": number}}
    if receiver is not None:
        overrides["server"] = receiver.server()
    return {
        "assistantId": "asst-1",
        "phoneNumberId": PHONE,
        "customer": {"number": number},
        "assistantOverrides": overrides,
    }


def post_call(
    sim: SimulatorHandle, number: str, receiver: RawReceiver | None = None, timeout: float = 5.0
) -> httpx.Response:
    return httpx.post(
        f"{sim.base_url}/call",
        json=call_body(number, receiver),
        headers=sim.auth_headers,
        timeout=timeout,
    )


def calls(sim: SimulatorHandle) -> list[dict[str, Any]]:
    response = httpx.get(f"{sim.base_url}/call", params={"limit": 1000}, headers=sim.auth_headers)
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()
    return found


def stats(sim: SimulatorHandle) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(f"{sim.base_url}/simulator/stats").json()
    return found


def wait_all_ended(sim: SimulatorHandle, timeout: float = 5.0) -> list[dict[str, Any]]:
    wait_until(lambda: all(call["status"] == "ended" for call in calls(sim)), timeout)
    return calls(sim)


# --------------------------------------------------------------------------- webhook faults


def test_dup_delivers_every_message_twice_byte_for_byte(
    start_simulator: StartSimulator, receiver: RawReceiver, number_with_reason: FindNumber
) -> None:
    sim = start_simulator(faults=FaultSpec(dup=1.0, dup_gap=0.05))
    call_id = post_call(sim, number_with_reason(CUSTOMER_ENDED), receiver).json()["id"]
    deliveries = receiver.wait_count(call_id, 8)
    assert [d.step for d in deliveries] == [step for step in FULL_CALL for _ in (1, 2)]
    for first, second in zip(deliveries[::2], deliveries[1::2], strict=True):
        assert first.body == second.body
        assert second.at - first.at >= 0.04
    wait_until(lambda: stats(sim)["webhooksSent"] == 8)
    assert stats(sim)["faults"]["dup"] == 4


def test_drop_sends_nothing_yet_the_call_shows_its_true_outcome(
    start_simulator: StartSimulator, receiver: RawReceiver, number_with_reason: FindNumber
) -> None:
    sim = start_simulator(faults=FaultSpec(drop=1.0))
    number = number_with_reason(CUSTOMER_ENDED)
    call_id = post_call(sim, number, receiver).json()["id"]
    wait_until(lambda: stats(sim)["faults"]["drop"] == 4)
    truth = httpx.get(f"{sim.base_url}/call/{call_id}", headers=sim.auth_headers).json()
    assert truth["status"] == "ended"
    assert truth["endedReason"] == CUSTOMER_ENDED
    expected = decide_outcome(number=number, attempt=1, seed=0, profile="instant")
    assert truth["cost"] == pytest.approx(expected.cost)
    sim.drain()
    assert receiver.deliveries == []
    assert stats(sim)["webhooksSent"] == 0
    assert stats(sim)["endedReasons"] == {CUSTOMER_ENDED: 1}


def test_drop_call_loses_the_whole_call_yet_it_plays_out(
    start_simulator: StartSimulator, receiver: RawReceiver, number_with_reason: FindNumber
) -> None:
    sim = start_simulator(faults=FaultSpec(drop_call=1.0))
    number = number_with_reason(VOICEMAIL)
    call_id = post_call(sim, number, receiver).json()["id"]
    wait_until(lambda: stats(sim)["faults"]["drop_call"] == 1)
    truth = httpx.get(f"{sim.base_url}/call/{call_id}", headers=sim.auth_headers).json()
    assert (truth["status"], truth["endedReason"]) == ("ended", VOICEMAIL)
    assert stats(sim)["faults"]["drop"] == 4
    assert receiver.deliveries == []


def _number_with_only_ended_reordered(number_with_reason: FindNumber, p: float) -> str:
    """A customer-ended call whose ``ended`` status-update alone is held back at ``p``."""
    start = 0
    while True:
        number = number_with_reason(CUSTOMER_ENDED, start=start)
        held = [fault_uniform(0, "reorder", number, 1, i) < p for i in range(3)]
        if held == [False, False, True]:
            return number
        start = int(number[-7:]) + 1


def test_reorder_can_put_the_report_before_the_ended_update(
    start_simulator: StartSimulator, receiver: RawReceiver, number_with_reason: FindNumber
) -> None:
    sim = start_simulator(faults=FaultSpec(reorder=0.5))
    number = _number_with_only_ended_reordered(number_with_reason, 0.5)
    call_id = post_call(sim, number, receiver).json()["id"]
    deliveries = receiver.wait_count(call_id, 4)
    assert [d.step for d in deliveries] == ["ringing", "in-progress", "report", "ended"]
    wait_until(lambda: stats(sim)["faults"]["reorder"] == 1)


def test_reorder_everything_still_delivers_everything(
    start_simulator: StartSimulator, receiver: RawReceiver, number_with_reason: FindNumber
) -> None:
    sim = start_simulator(faults=FaultSpec(reorder=1.0))
    call_id = post_call(sim, number_with_reason(NO_ANSWER), receiver).json()["id"]
    deliveries = receiver.wait_count(call_id, 3)
    # Every message but the last is held back until the report has gone out.
    assert [d.step for d in deliveries] == ["report", "ringing", "ended"]
    wait_until(lambda: stats(sim)["faults"]["reorder"] == 2)
    assert stats(sim)["webhooksSent"] == 3


def test_delay_holds_messages_back_without_reordering(
    start_simulator: StartSimulator, receiver: RawReceiver, number_with_reason: FindNumber
) -> None:
    spec = FaultSpec(delay=1.0, delay_seconds=0.3)
    sim = start_simulator(faults=spec)
    number = number_with_reason(CUSTOMER_ENDED)
    delays = [
        plan_delivery(
            spec, seed=0, number=number, request_index=1, message_index=i, last=i == 3
        ).delay_seconds
        for i in range(4)
    ]
    assert all(0 < delay < 0.3 for delay in delays)
    started = time.monotonic()
    call_id = post_call(sim, number, receiver).json()["id"]
    deliveries = receiver.wait_count(call_id, 4)
    assert [d.step for d in deliveries] == FULL_CALL
    # Messages go out one after another, so each waits for its own delay and all earlier ones.
    assert deliveries[0].at - started >= delays[0] - 0.01
    assert deliveries[-1].at - started >= sum(delays) - 0.01
    wait_until(lambda: stats(sim)["faults"]["delay"] == 4)


# --------------------------------------------------------------------------- create faults


def test_create_5xx_with_the_call_created(
    start_simulator: StartSimulator, receiver: RawReceiver, number_with_reason: FindNumber
) -> None:
    sim = start_simulator(faults=FaultSpec(create_5xx=1.0, create_5xx_created=1.0))
    number = number_with_reason(CUSTOMER_ENDED)
    response = post_call(sim, number, receiver)
    assert response.status_code in SERVER_ERROR_STATUSES
    assert response.json()["statusCode"] == response.status_code
    [call] = wait_all_ended(sim)
    assert call["customer"]["number"] == number
    assert call["endedReason"] == CUSTOMER_ENDED
    assert [d.step for d in receiver.wait_count(call["id"], 4)] == FULL_CALL
    current = stats(sim)
    assert current["callsPlaced"] == 1
    assert current["faults"]["create_5xx_created"] == 1
    assert current["faults"]["create_5xx_not_created"] == 0
    with sim.client() as client, pytest.raises(ProviderServerError) as info:
        client.create_call(CreateCallRequest.model_validate(call_body(number)))
    assert info.value.ambiguous


def test_create_5xx_without_the_call(
    start_simulator: StartSimulator, receiver: RawReceiver
) -> None:
    sim = start_simulator(faults=FaultSpec(create_5xx=1.0, create_5xx_created=0.0))
    response = post_call(sim, "+15550009001", receiver)
    assert response.status_code in SERVER_ERROR_STATUSES
    assert calls(sim) == []
    sim.drain()
    assert receiver.deliveries == []
    current = stats(sim)
    assert (current["callsPlaced"], current["createRequests"]) == (0, 1)
    assert current["faults"]["create_5xx_not_created"] == 1


def test_create_timeout_the_client_gives_up_yet_the_call_exists(
    start_simulator: StartSimulator, receiver: RawReceiver, number_with_reason: FindNumber
) -> None:
    sim = start_simulator(faults=FaultSpec(create_timeout=1.0, timeout_hold=3.0))
    number = number_with_reason(CUSTOMER_ENDED)
    request = CreateCallRequest.model_validate(call_body(number, receiver))
    started = time.monotonic()
    client = VapiClient(base_url=sim.base_url, api_key="k", timeout=0.3)
    with client, pytest.raises(ProviderTimeout) as info:
        client.create_call(request)
    assert info.value.ambiguous
    assert time.monotonic() - started < 2.0
    [call] = wait_all_ended(sim)
    assert call["customer"]["number"] == number
    assert call["endedReason"] == CUSTOMER_ENDED
    assert [d.step for d in receiver.wait_count(call["id"], 4)] == FULL_CALL
    assert stats(sim)["faults"]["create_timeout"] == 1


def test_create_timeout_answer_arrives_after_the_hold(start_simulator: StartSimulator) -> None:
    sim = start_simulator(faults=FaultSpec(create_timeout=1.0, timeout_hold=0.4))
    started = time.monotonic()
    response = post_call(sim, "+15550009002", timeout=5.0)
    assert response.status_code == 201
    assert time.monotonic() - started >= 0.4
    assert [call["id"] for call in calls(sim)] == [response.json()["id"]]


def test_create_429_creates_nothing_and_says_when_to_retry(
    start_simulator: StartSimulator, receiver: RawReceiver
) -> None:
    sim = start_simulator(faults=FaultSpec(create_429=1.0, retry_after=3))
    response = post_call(sim, "+15550009003", receiver)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.json()["statusCode"] == 429
    with sim.client() as client, pytest.raises(ProviderRateLimited) as info:
        client.create_call(CreateCallRequest.model_validate(call_body("+15550009003")))
    assert info.value.retry_after == 3.0
    assert calls(sim) == []
    current = stats(sim)
    assert (current["callsPlaced"], current["createRequests"]) == (0, 2)
    assert current["faults"]["create_429"] == 2


def test_invalid_requests_are_never_faulted(start_simulator: StartSimulator) -> None:
    sim = start_simulator(faults=FaultSpec(create_429=1.0))
    response = httpx.post(f"{sim.base_url}/call", json={}, headers=sim.auth_headers)
    assert response.status_code == 400
    assert stats(sim)["createRequests"] == 0


# --------------------------------------------------------------------------- ground truth


def test_stats_report_every_fault_counter_and_keep_existing_fields(
    start_simulator: StartSimulator,
) -> None:
    current = stats(start_simulator())
    assert current["faults"] == dict.fromkeys(FAULT_COUNTERS, 0)
    for key in (
        "callsPlaced",
        "inFlight",
        "maxInFlight",
        "maxInFlightByPhoneNumber",
        "maxCallsPerSecondByPhoneNumber",
        "concurrencyRejections",
        "numbersDialedMoreThanOnce",
        "webhooksSent",
        "webhookFailures",
        "endedReasons",
    ):
        assert key in current


ALL_FAULTS = FaultSpec(
    dup=0.3,
    reorder=0.3,
    drop=0.3,
    delay=0.5,
    delay_seconds=0.05,
    dup_gap=0.01,
    create_5xx=0.25,
    create_timeout=0.2,
    timeout_hold=2.0,
    create_429=0.2,
)


def test_ground_truth_under_every_fault(
    start_simulator: StartSimulator, receiver: RawReceiver
) -> None:
    sim = start_simulator(faults=ALL_FAULTS, seed=4, concurrency_limit=100)
    numbers = [f"+1555003{i:04d}" for i in range(24)]
    expected: dict[str, CreateFault] = {
        n: decide_create(ALL_FAULTS, seed=4, number=n, request_index=1).fault for n in numbers
    }
    assert len(set(expected.values())) == len(CreateFault)  # every kind occurs
    for number in numbers:
        try:
            # Well under the hold of a timed-out create, well over any other answer's time
            # on a loaded machine.
            post_call(sim, number, receiver, timeout=1.0)
        except httpx.TimeoutException:
            assert expected[number] is CreateFault.TIMEOUT
    truth = wait_all_ended(sim)
    assert {call["customer"]["number"] for call in truth} == {
        n for n, fault in expected.items() if fault.creates
    }
    for call in truth:
        outcome = decide_outcome(number=call["customer"]["number"], attempt=1, seed=4)
        assert call["endedReason"] == outcome.ended_reason
    counted = stats(sim)["faults"]
    for kind in CreateFault:
        if kind is not CreateFault.NONE:
            assert counted[kind.value] == list(expected.values()).count(kind)
    assert counted["drop"] > 0
    assert counted["dup"] > 0


def _run_in_order(
    start_simulator: StartSimulator, seed: int, numbers: list[str]
) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Each number's delivered steps, and the fault counters, after calling ``numbers``."""
    spec = FaultSpec(dup=0.4, drop=0.3, reorder=0.4, dup_gap=0.01)
    sim = start_simulator(faults=spec, seed=seed, concurrency_limit=100)
    with raw_receiver() as receiver:
        ids = {number: post_call(sim, number, receiver).json()["id"] for number in numbers}
        wait_all_ended(sim)
        sim.drain()
        steps = {number: receiver.steps(call_id) for number, call_id in ids.items()}
    return steps, stats(sim)["faults"]


def test_webhook_faults_do_not_depend_on_arrival_order(start_simulator: StartSimulator) -> None:
    numbers = [f"+1555004{i:04d}" for i in range(8)]
    forward = _run_in_order(start_simulator, 11, numbers)
    backward = _run_in_order(start_simulator, 11, numbers[::-1])
    assert forward == backward
    steps, counted = forward
    assert counted["dup"] and counted["drop"] and counted["reorder"]
    other_seed = _run_in_order(start_simulator, 12, numbers)
    assert other_seed[0] != steps


# --------------------------------------------------------------------------- signing


def test_webhooks_are_signed_with_the_hmac_secret(
    start_simulator: StartSimulator, receiver: RawReceiver, number_with_reason: FindNumber
) -> None:
    secret = "whsec-test"
    sim = start_simulator(webhook_hmac_secret=secret, faults=FaultSpec(dup=1.0, dup_gap=0.01))
    before = int(time.time())
    call_id = post_call(sim, number_with_reason(CUSTOMER_ENDED), receiver).json()["id"]
    deliveries = receiver.wait_count(call_id, 8)
    after = int(time.time())
    for delivery in deliveries:
        timestamp = delivery.headers["x-timestamp"]
        assert timestamp.isdigit()
        assert before <= int(timestamp) <= after
        signature = delivery.headers["x-signature"]
        assert signature == signature.lower()
        signed = f"{timestamp}.".encode() + delivery.body
        assert signature == hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        assert delivery.signature_ok(secret)
        assert not delivery.signature_ok("another-secret")
        assert delivery.headers["x-vapi-secret"] == RECEIVER_SECRET
        assert delivery.headers["content-type"] == "application/json"
        assert json.loads(delivery.body)["message"]["call"]["id"] == call_id


def test_webhooks_are_unsigned_without_a_secret(
    simulator: SimulatorHandle, receiver: RawReceiver, number_with_reason: FindNumber
) -> None:
    call_id = post_call(simulator, number_with_reason(CUSTOMER_ENDED), receiver).json()["id"]
    deliveries = receiver.wait_count(call_id, 4)
    assert [d.step for d in deliveries] == FULL_CALL
    for delivery in deliveries:
        assert "x-signature" not in delivery.headers
        assert "x-timestamp" not in delivery.headers
        assert delivery.headers["x-vapi-secret"] == RECEIVER_SECRET
