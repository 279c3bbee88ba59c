"""``POST /simulator/forget``: the simulator loses calls, as a provider that lost them would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.simulator.faults import FaultSpec, plan_delivery
from orchestrator.simulator.outcomes import BUSY, CONCURRENCY_LIMIT_REACHED, FAILED_TO_CONNECT
from tests.support.raw_receiver import RawReceiver, raw_receiver
from tests.support.servers import wait_until
from tests.support.simulators import (
    find_number,
    journal_lines,
    journal_path,
    outcome,
    running,
)


def test_forget_by_ids(tmp_path: Path) -> None:
    with running(tmp_path) as sim:
        ids = [sim.create(f"+1444200{i:04d}") for i in range(3)]
        placed = sim.settled()
        answer = sim.forget({"ids": [ids[0], "no-such-call", ids[1], ids[0]]})
        assert answer.status_code == 200
        assert answer.json() == {"forgotten": [ids[0], ids[1]]}
        missing = sim.call(ids[0])
        assert missing.status_code == 404
        assert missing.json() == {
            "statusCode": 404,
            "error": "Not Found",
            "message": f"Call {ids[0]} not found.",
        }
        assert [call["id"] for call in sim.calls()] == [ids[2]]
        stats = sim.stats()
    assert stats == {**placed, "forgotten": 2}
    assert stats["callsPlaced"] == 3
    with running(tmp_path) as sim:
        assert sim.call(ids[1]).status_code == 404
        assert [call["id"] for call in sim.calls()] == [ids[2]]
        assert sim.stats()["forgotten"] == 2
    journal = journal_path(tmp_path).read_text()
    assert ids[0] not in journal
    assert ids[2] in journal


def test_seq_stays_unique_across_forgets_and_restarts(tmp_path: Path) -> None:
    with running(tmp_path) as sim:
        ids = [sim.create(f"+1444201{i:04d}") for i in range(3)]
        assert sim.forget({"ids": ids[:2]}).status_code == 200
    with running(tmp_path) as sim:
        later = [sim.create(f"+1444202{i:04d}") for i in range(2)]
        sim.settled()
    seq = {
        line["call"]["id"]: line["call"]["seq"]
        for line in journal_lines(tmp_path)
        if line["op"] in ("call", "record")
    }
    assert seq == {ids[2]: 2, later[0]: 3, later[1]: 4}


@pytest.fixture
def receiver() -> Iterator[RawReceiver]:
    with raw_receiver() as receiver:
        yield receiver


STEADY = "steady"
DELAYS = FaultSpec(delay=0.5, delay_seconds=2.0)


def delay_of(number: str, message_index: int) -> float:
    plan = plan_delivery(
        DELAYS, seed=0, number=number, request_index=1, message_index=message_index, last=False
    )
    return plan.delay_seconds


def test_forget_in_flight_stops_its_webhooks_and_frees_its_place(receiver: RawReceiver) -> None:
    # Busy: rings after 20 % of its ring time, its ringing webhook held back by a delay fault,
    # and is forgotten while that webhook waits in its outbox.
    doomed = find_number(
        lambda n: (
            outcome(n, STEADY).ended_reason == BUSY
            and outcome(n, STEADY).ring_seconds > 1.2
            and delay_of(n, 0) > 1.0
        )
    )
    control = find_number(
        lambda n: (
            outcome(n, STEADY).ended_reason == FAILED_TO_CONNECT
            and delay_of(n, 0) == delay_of(n, 1) == 0.0
        )
    )
    with running(None, profile=STEADY, concurrency_limit=1, faults=DELAYS) as sim:
        doomed_id = sim.create(doomed, receiver.server())
        wait_until(lambda: sim.known(doomed_id)["status"] == "ringing")
        assert sim.stats()["inFlight"] == 1
        assert sim.forget({"inFlight": True}).json() == {"forgotten": [doomed_id]}
        assert sim.stats()["inFlight"] == 0
        assert sim.call(doomed_id).status_code == 404
        # Its place is free: under a limit of 1, the next call is not refused.
        control_id = sim.create(control, receiver.server())
        receiver.wait_count(control_id, 2)
        assert sim.known(control_id)["endedReason"] != CONCURRENCY_LIMIT_REACHED
        stats = sim.settled()
    assert receiver.steps(doomed_id) == []
    assert receiver.steps(control_id) == ["ended", "report"]
    assert stats["forgotten"] == 1
    assert stats["callsPlaced"] == 2
    assert stats["endedReasons"] == {FAILED_TO_CONNECT: 1}
    assert stats["maxInFlightByPhoneNumber"] == {"pn-restart": 1}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], 'body must be a JSON object: {"ids": [...]} or {"inFlight": true}'),
        ({}, "exactly one of ids, inFlight must be provided"),
        ({"ids": ["a"], "inFlight": True}, "exactly one of ids, inFlight must be provided"),
        ({"ids": "a"}, "ids must be an array of strings"),
        ({"ids": [1]}, "ids must be an array of strings"),
        ({"inFlight": False}, "inFlight must be true"),
        ({"ids": [], "all": True}, "unknown field all"),
    ],
)
def test_forget_rejects_a_body_of_neither_form(body: Any, problem: str) -> None:
    with running(None) as sim:
        kept = sim.create("+14442009999")
        answer = sim.forget(body)
        assert answer.status_code == 400
        payload = answer.json()
        assert payload["statusCode"] == 400
        assert payload["error"] == "Bad Request"
        assert problem in payload["message"]
        assert sim.call(kept).status_code == 200
        not_json = httpx.post(f"{sim.base_url}/simulator/forget", content=b"{nope")
        assert not_json.status_code == 400
        assert not_json.json()["message"] == ["body must be valid JSON"]
