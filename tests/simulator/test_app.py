from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from orchestrator.providers import (
    CreateCallRequest,
    ProviderCall,
    ProviderRejected,
    VapiClient,
)
from orchestrator.simulator.outcomes import (
    ASSISTANT_ENDED,
    BUSY,
    CONCURRENCY_LIMIT_REACHED,
    CUSTOMER_ENDED,
    FAILED_TO_CONNECT,
    NO_ANSWER,
    VOICEMAIL,
    decide_outcome,
)
from tests.support.simulators import SimulatorHandle, StartSimulator
from tests.support.webhook_receiver import Received, WebhookReceiver

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PHONE = "pn-0001"
FindNumber = Callable[..., str]
WaitUntil = Callable[..., None]

EXPECTED_SEQUENCES = {
    CUSTOMER_ENDED: ["ringing", "in-progress", "ended", "report"],
    ASSISTANT_ENDED: ["ringing", "in-progress", "ended", "report"],
    VOICEMAIL: ["ringing", "in-progress", "ended", "report"],
    NO_ANSWER: ["ringing", "ended", "report"],
    BUSY: ["ringing", "ended", "report"],
    FAILED_TO_CONNECT: ["ended", "report"],
}


def call_request(
    number: str,
    *,
    receiver: WebhookReceiver | None = None,
    phone_number_id: str = PHONE,
    metadata: dict[str, Any] | None = None,
) -> CreateCallRequest:
    overrides: dict[str, Any] = {"metadata": metadata or {"contactId": number}}
    if receiver is not None:
        overrides["server"] = receiver.server()
    return CreateCallRequest(
        assistant_id="asst-1",
        phone_number_id=phone_number_id,
        customer={"number": number, "name": "Test Customer"},
        assistant_overrides=overrides,
        name=f"call to {number}",
    )


def steps(messages: list[Received]) -> list[str]:
    return [
        "report" if kind == "end-of-call-report" else str(status)
        for kind, status in (m.kind for m in messages)
    ]


def wait_ended(client: VapiClient, call_id: str, wait_until: WaitUntil) -> ProviderCall:
    wait_until(lambda: client.get_call(call_id).status == "ended")
    return client.get_call(call_id)


def test_create_returns_queued_call_echoing_the_request(simulator: SimulatorHandle) -> None:
    overrides = {
        "server": {"url": "http://127.0.0.1:9/none", "headers": {"X-Vapi-Secret": "x"}},
        "metadata": {"campaignId": "c1", "nested": {"list": [1, 2.5, None, "s"]}},
        "variableValues": {"firstName": "Ada"},
    }
    body = {
        "assistantId": "asst-1",
        "phoneNumberId": PHONE,
        "customer": {"number": "+15550001111", "name": "Ada", "extension": "12"},
        "assistantOverrides": overrides,
        "name": "campaign call",
    }
    response = httpx.post(f"{simulator.base_url}/call", json=body, headers=simulator.auth_headers)
    assert response.status_code == 201
    call = response.json()
    assert uuid.UUID(call["id"]).version == 4
    assert call["status"] == "queued"
    assert call["type"] == "outboundPhoneCall"
    assert call["orgId"] == simulator.config.org_id
    assert ISO_MS.match(call["createdAt"])
    assert ISO_MS.match(call["updatedAt"])
    assert call["startedAt"] is None
    assert call["endedAt"] is None
    assert call["endedReason"] is None
    for key, value in body.items():
        assert call[key] == value, key


def test_client_round_trip(client: VapiClient, wait_until: WaitUntil) -> None:
    created = client.create_call(call_request("+15550002222", metadata={"contactId": "k-1"}))
    assert created.status == "queued"
    assert created.customer == {"number": "+15550002222", "name": "Test Customer"}
    assert created.assistant_overrides == {"metadata": {"contactId": "k-1"}}
    assert created.phone_number_id == PHONE
    assert created.created_at is not None
    assert created.created_at.tzinfo is not None
    ended = wait_ended(client, created.id, wait_until)
    expected = decide_outcome(number="+15550002222", attempt=1, seed=0, profile="instant")
    assert ended.ended_reason == expected.ended_reason
    assert ended.ended_at is not None
    assert ended.analysis is not None
    assert ended.cost == pytest.approx(expected.cost)


@pytest.mark.parametrize("reason", sorted(EXPECTED_SEQUENCES))
def test_webhooks_arrive_in_order_and_match_ground_truth(
    reason: str,
    client: VapiClient,
    receiver: WebhookReceiver,
    number_with_reason: FindNumber,
) -> None:
    number = number_with_reason(reason)
    metadata = {"contactId": "contact-42", "campaignId": "camp-7"}
    created = client.create_call(call_request(number, receiver=receiver, metadata=metadata))
    messages = receiver.wait_for_report(created.id)
    assert steps(messages) == EXPECTED_SEQUENCES[reason]
    for received in messages:
        assert received.headers["x-vapi-secret"] == receiver.secret
        message = received.message
        assert isinstance(message["timestamp"], int)
        assert message["call"]["assistantOverrides"]["metadata"] == metadata
        assert message["customer"] == {"number": number, "name": "Test Customer"}
        assert message["phoneNumber"] == {"id": PHONE}
    ended, report = messages[-2].message, messages[-1].message
    assert ended["endedReason"] == report["endedReason"] == reason
    truth = client.get_call(created.id)
    assert truth.status == "ended"
    assert truth.ended_reason == report["endedReason"]
    assert truth.cost == report["cost"]
    assert truth.analysis == report["analysis"]
    assert report["endedAt"] == ended["call"]["endedAt"]
    assert ISO_MS.match(report["endedAt"])
    assert set(report["artifact"]) >= {"transcript", "messages"}
    assert set(report["analysis"]) == {"summary", "successEvaluation"}
    answered = "in-progress" in EXPECTED_SEQUENCES[reason]
    assert (report["startedAt"] is not None) == answered
    assert (truth.started_at is not None) == answered


def test_call_without_server_url_still_ends(client: VapiClient, wait_until: WaitUntil) -> None:
    created = client.create_call(call_request("+15550003333"))
    assert wait_ended(client, created.id, wait_until).ended_reason is not None


def test_list_calls_filters_and_pages(client: VapiClient) -> None:
    created: list[ProviderCall] = []
    for i in range(5):
        phone = PHONE if i % 2 == 0 else "pn-0002"
        created.append(client.create_call(call_request(f"+1555000400{i}", phone_number_id=phone)))
        time.sleep(0.003)  # distinct createdAt milliseconds keep the cursors unambiguous
    ids = [call.id for call in created]
    assert [c.id for c in client.list_calls()] == ids[::-1]
    assert [c.id for c in client.list_calls(limit=2)] == ids[:2:-1]
    cursor = created[1].created_at
    assert [c.id for c in client.list_calls(created_at_gt=cursor)] == ids[:1:-1]
    assert [c.id for c in client.list_calls(phone_number_id="pn-0002")] == [ids[3], ids[1]]
    paged: list[str] = []
    before = None
    while page := client.list_calls(limit=2, created_at_lt=before):
        paged.extend(call.id for call in page)
        before = page[-1].created_at
    assert paged == ids[::-1]


def test_list_query_parameters_over_raw_http(simulator: SimulatorHandle) -> None:
    with httpx.Client(base_url=simulator.base_url, headers=simulator.auth_headers) as http:
        first = http.post("/call", json=call_request("+15550005000").model_dump(by_alias=True))
        time.sleep(0.003)
        http.post("/call", json=call_request("+15550005001").model_dump(by_alias=True))
        first_id = first.json()["id"]
        ascending = http.get("/call", params={"sortOrder": "ASC"}).json()
        assert ascending[0]["id"] == first_id
        assert [c["id"] for c in http.get("/call", params={"id": first_id}).json()] == [first_id]
        too_many = http.get("/call", params={"limit": 1001})
        assert too_many.status_code == 400
        assert too_many.json()["statusCode"] == 400


def test_concurrency_limit_ends_extra_calls(
    start_simulator: StartSimulator, receiver: WebhookReceiver
) -> None:
    handle = start_simulator(profile="realistic", concurrency_limit=2)
    with handle.client() as client:
        calls = [
            client.create_call(call_request(f"+1555000600{i}", receiver=receiver)) for i in range(3)
        ]
        assert all(call.status == "queued" for call in calls)
        messages = receiver.wait_for_report(calls[2].id)
        assert steps(messages) == ["ended", "report"]
        assert messages[-1].message["endedReason"] == CONCURRENCY_LIMIT_REACHED
        rejected = client.get_call(calls[2].id)
        assert rejected.ended_reason == CONCURRENCY_LIMIT_REACHED
        assert rejected.started_at is None
        assert client.get_call(calls[0].id).status in {"queued", "ringing"}
    stats = httpx.get(f"{handle.base_url}/simulator/stats").json()
    assert stats["concurrencyRejections"] == 1
    assert stats["callsPlaced"] == 3
    assert stats["inFlight"] == 2
    assert stats["maxInFlight"] == 2
    assert stats["maxInFlightByPhoneNumber"] == {PHONE: 2}


def test_missing_bearer_is_unauthorized(simulator: SimulatorHandle) -> None:
    body = call_request("+15550007000").model_dump(by_alias=True, exclude_none=True)
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        response = httpx.post(f"{simulator.base_url}/call", json=body, headers=headers)
        assert response.status_code == 401
        payload = response.json()
        assert payload["statusCode"] == 401
        assert payload["error"] == "Unauthorized"
        assert isinstance(payload["message"], str)


def test_bad_body_is_rejected_with_messages(client: VapiClient, simulator: SimulatorHandle) -> None:
    bad = CreateCallRequest(assistant_id="a", squad_id="s", customer={"name": "nobody"})
    with pytest.raises(ProviderRejected) as info:
        client.create_call(bad)
    assert info.value.status_code == 400
    joined = " ".join(info.value.messages)
    assert len(info.value.messages) == 3
    for field in ("customer.number", "phoneNumberId", "exactly one of"):
        assert field in joined
    response = httpx.post(
        f"{simulator.base_url}/call",
        content=b"{not json",
        headers={**simulator.auth_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["message"] == ["body must be valid JSON"]


def test_unknown_call_is_not_found(client: VapiClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        client.get_call(str(uuid.uuid4()))
    assert info.value.status_code == 404


def test_stats_and_reset(
    simulator: SimulatorHandle,
    client: VapiClient,
    receiver: WebhookReceiver,
    wait_until: WaitUntil,
) -> None:
    repeated = "+15550008000"
    created = [
        client.create_call(call_request(number, receiver=receiver))
        for number in (repeated, repeated, "+15550008001")
    ]
    delivered = sum(len(receiver.wait_for_report(call.id)) for call in created)
    stats_url = f"{simulator.base_url}/simulator/stats"
    wait_until(lambda: httpx.get(stats_url).json()["webhooksSent"] == delivered)
    stats = httpx.get(stats_url).json()
    assert stats["callsPlaced"] == 3
    assert stats["inFlight"] == 0
    assert 1 <= stats["maxInFlight"] <= 3
    assert stats["maxCallsPerSecondByPhoneNumber"] == {PHONE: 3}
    assert stats["numbersDialedMoreThanOnce"] == [repeated]
    assert stats["concurrencyRejections"] == 0
    assert stats["webhookFailures"] == 0
    second = decide_outcome(number=repeated, attempt=2, seed=0, profile="instant")
    assert client.get_call(created[1].id).ended_reason == second.ended_reason
    assert httpx.post(f"{simulator.base_url}/simulator/reset").json() == {"status": "ok"}
    assert client.list_calls() == []
    assert httpx.get(stats_url).json()["callsPlaced"] == 0
    assert httpx.get(f"{simulator.base_url}/healthz").json() == {"status": "ok"}


def test_webhook_delivery_retries_server_errors(
    client: VapiClient,
    receiver: WebhookReceiver,
    number_with_reason: FindNumber,
) -> None:
    receiver.fail_next = 2
    created = client.create_call(
        call_request(number_with_reason(CUSTOMER_ENDED), receiver=receiver)
    )
    messages = receiver.wait_for_report(created.id)
    assert steps(messages) == EXPECTED_SEQUENCES[CUSTOMER_ENDED]
    assert receiver.attempts == len(messages) + 2


def test_undeliverable_webhooks_are_counted(
    start_simulator: StartSimulator,
    receiver: WebhookReceiver,
    number_with_reason: FindNumber,
    wait_until: WaitUntil,
) -> None:
    handle = start_simulator(webhook_retries=2, webhook_backoff_seconds=0.001)
    receiver.always_fail = True
    number = number_with_reason(FAILED_TO_CONNECT)
    with handle.client() as client:
        client.create_call(call_request(number, receiver=receiver))
    stats_url = f"{handle.base_url}/simulator/stats"
    wait_until(lambda: httpx.get(stats_url).json()["webhookFailures"] == 2)
    assert receiver.attempts == 2 * 3
    assert httpx.get(stats_url).json()["webhooksSent"] == 0


def test_run_simulator_serves_until_stopped(wait_until: WaitUntil) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = f"from orchestrator.simulator import run_simulator; run_simulator(port={port}, seed=3)"
    process = subprocess.Popen([sys.executable, "-c", code])
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, timeout=15.0)
        stats = httpx.get(f"http://127.0.0.1:{port}/simulator/stats").json()
        assert stats["callsPlaced"] == 0
    finally:
        process.terminate()
        process.wait(timeout=10)
