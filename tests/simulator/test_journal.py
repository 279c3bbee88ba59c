"""A simulator with a state dir knows, after a restart, every call and counter of earlier runs."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.simulator.faults import CreateFault, FaultSpec, decide_create, plan_delivery
from orchestrator.simulator.outcomes import (
    BUSY,
    CUSTOMER_ENDED,
    NO_ANSWER,
    talk_cost,
)
from orchestrator.simulator.records import from_ms, iso
from tests.support.servers import wait_until
from tests.support.simulators import (
    find_number,
    journal_lines,
    outcome,
    running,
)
from tests.support.webhook_receiver import Received, WebhookReceiver


def steps(messages: list[Received]) -> list[str]:
    return ["report" if m.kind[0] == "end-of-call-report" else str(m.kind[1]) for m in messages]


def test_a_restart_knows_every_call_and_the_same_stats(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    faults = FaultSpec(dup=0.5, dup_gap=0.01, create_429=0.3)
    numbers = [f"+1444000{i:04d}" for i in range(8)] + ["+14440000000"]
    with running(tmp_path, faults=faults) as sim:
        answers = [sim.post_call(number, receiver.server()) for number in numbers]
        before_stats = sim.settled()
        before = {call["id"]: call for call in sim.calls()}
    assert {a.status_code for a in answers} == {201, 429}
    assert before_stats["faults"]["dup"] > 0
    assert before_stats["webhooksSent"] == len(receiver.received) > 0
    assert before_stats["numbersDialedMoreThanOnce"] == ["+14440000000"]
    with running(tmp_path, faults=faults) as sim:
        assert sim.stats() == before_stats
        assert {call["id"]: call for call in sim.calls()} == before
        for call_id, call in before.items():
            assert sim.known(call_id) == call


REALISTIC = "realistic"


def in_flight_numbers() -> tuple[str, str, str]:
    """Numbers whose first realistic call is talking, queued and ringing ~3 s after creation."""
    talking = find_number(
        lambda n: (
            outcome(n, REALISTIC).ended_reason == CUSTOMER_ENDED
            and outcome(n, REALISTIC).ring_seconds < 2.6
        )
    )
    # No answer: 20-35 s of ringing, so 4-7 s queued first.
    queued = find_number(lambda n: outcome(n, REALISTIC).ended_reason == NO_ANSWER, start=100)
    ringing = find_number(
        lambda n: (
            outcome(n, REALISTIC).ended_reason == BUSY and outcome(n, REALISTIC).ring_seconds > 9
        ),
        start=200,
    )
    return talking, queued, ringing


def stop_in_flight(
    state_dir: Path, receiver: WebhookReceiver, numbers: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """Create a call to each number, stop once the first talks and the last rings."""
    with running(state_dir, profile=REALISTIC) as sim:
        ids = [sim.create(number, receiver.server()) for number in numbers]

        def status(call_id: str) -> str | None:
            return ([None] + [m.kind[1] for m in receiver.for_call(call_id)])[-1]

        wait_until(lambda: status(ids[0]) == "in-progress" and status(ids[-1]) == "ringing")
        return {number: sim.known(call_id) for number, call_id in zip(numbers, ids, strict=True)}


def test_calls_in_flight_at_a_stop_end_when_it_was_stopped(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    talking, queued, ringing = numbers = in_flight_numbers()
    before = stop_in_flight(tmp_path, receiver, numbers)
    assert [call["status"] for call in before.values()] == ["in-progress", "queued", "ringing"]
    stopped = journal_lines(tmp_path)[-1]
    assert stopped["op"] == "stopped"
    time.sleep(0.2)  # a restart later than the stop: endedAt must be the stop, not the restart
    with running(tmp_path, profile=REALISTIC) as sim:
        after = {number: sim.known(call["id"]) for number, call in before.items()}
        reports = {number: receiver.wait_for_report(call["id"]) for number, call in before.items()}
        assert [call["status"] for call in sim.calls()] == ["ended"] * 3
        assert sim.stats()["inFlight"] == 0
        assert sim.stats()["endedReasons"] == {CUSTOMER_ENDED: 1, NO_ANSWER: 2}
    assert_cut_off(before, after, stopped_at=int(stopped["at"]), talking=talking)
    assert steps(reports[talking]) == ["ringing", "in-progress", "ended", "report"]
    assert steps(reports[queued]) == ["ended", "report"]
    assert steps(reports[ringing]) == ["ringing", "ended", "report"]
    for number, messages in reports.items():
        assert messages[-2].message["endedReason"] == after[number]["endedReason"]
        assert messages[-1].message["endedAt"] == after[number]["endedAt"]
        assert messages[-1].headers["x-vapi-secret"] == receiver.secret


def assert_cut_off(
    before: dict[str, dict[str, Any]],
    after: dict[str, dict[str, Any]],
    *,
    stopped_at: int,
    talking: str,
) -> None:
    for number, call in after.items():
        assert call["status"] == "ended"
        assert call["endedAt"] == iso(from_ms(stopped_at))
        assert "cut off" in call["analysis"]["summary"]
        if number == talking:
            assert call["endedReason"] == CUSTOMER_ENDED
            assert call["startedAt"] == before[number]["startedAt"] is not None
            talk = stopped_at / 1000 - _epoch_seconds(call["startedAt"])
            assert call["cost"] == pytest.approx(talk_cost(talk), abs=1e-6)
        else:
            assert call["endedReason"] == NO_ANSWER
            assert call["startedAt"] is None
            assert call["cost"] == 0.0


def _epoch_seconds(iso_text: str) -> float:
    return datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp()


def test_outcomes_and_create_faults_continue_across_a_restart(tmp_path: Path) -> None:
    faults = FaultSpec(create_429=0.5)

    def create_fault(number: str, index: int) -> CreateFault:
        return decide_create(faults, seed=0, number=number, request_index=index).fault

    number = find_number(
        lambda n: (
            [create_fault(n, i) for i in (1, 2, 3)]
            == [CreateFault.NONE, CreateFault.RATE_LIMITED, CreateFault.NONE]
            and outcome(n, "instant", 1).ended_reason != outcome(n, "instant", 2).ended_reason
        )
    )
    with running(tmp_path, faults=faults) as sim:
        first = sim.create(number)
        sim.settled()
    with running(tmp_path, faults=faults) as sim:
        assert sim.post_call(number).status_code == 429
        second = sim.create(number)
        sim.settled()
        assert sim.known(first)["endedReason"] == outcome(number, "instant", 1).ended_reason
        assert sim.known(second)["endedReason"] == outcome(number, "instant", 2).ended_reason
        stats = sim.stats()
    assert stats["numbersDialedMoreThanOnce"] == [number]
    assert stats["createRequests"] == 3
    assert stats["faults"]["create_429"] == 1


def test_webhook_faults_of_a_cut_off_call_continue_from_its_next_message(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    """The ``ended`` of a call cut off while ringing is its message 1, not 0."""
    faults = FaultSpec(drop=0.5)

    def dropped(number: str, index: int) -> bool:
        plan = plan_delivery(
            faults, seed=0, number=number, request_index=1, message_index=index, last=index == 2
        )
        return plan.drop

    number = find_number(
        lambda n: (
            outcome(n, "steady").ended_reason == NO_ANSWER
            and [dropped(n, i) for i in (0, 1, 2)] == [False, True, False]
        )
    )
    with running(tmp_path, profile="steady", faults=faults) as sim:
        call_id = sim.create(number, receiver.server())
        wait_until(lambda: len(receiver.for_call(call_id)) == 1)
    with running(tmp_path, profile="steady", faults=faults) as sim:
        messages = receiver.wait_for_report(call_id)
        wait_until(lambda: sim.stats()["faults"]["drop"] == 1)
    assert steps(messages) == ["ringing", "report"]
    assert messages[-1].message["endedReason"] == NO_ANSWER
