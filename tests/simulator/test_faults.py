"""The ``--faults`` spec and the fault decisions, without servers."""

from __future__ import annotations

import pytest

from orchestrator.simulator.faults import (
    SERVER_ERROR_STATUSES,
    CreateFault,
    FaultSpec,
    FaultSpecError,
    call_dropped,
    decide_create,
    fault_uniform,
    parse_faults,
    plan_delivery,
)

NUMBERS = [f"+1555{i:07d}" for i in range(300)]


def test_empty_spec_injects_nothing() -> None:
    for text in ("", "  ", ",", " , "):
        spec = parse_faults(text)
        assert spec == FaultSpec()
        assert not spec.active
    assert str(FaultSpec()) == ""


def test_full_spec_from_the_issue() -> None:
    spec = parse_faults(
        "dup=0.2, reorder=0.2,drop=0.05,delay=2,create_5xx=0.05,create_timeout=0.02,create_429=0.1,"
    )
    assert (spec.dup, spec.reorder, spec.drop) == (0.2, 0.2, 0.05)
    assert (spec.delay, spec.delay_seconds) == (1.0, 2.0)
    assert (spec.create_5xx, spec.create_timeout, spec.create_429) == (0.05, 0.02, 0.1)
    assert spec.create_5xx_created == 0.5
    assert spec.timeout_hold == 15.0
    assert spec.retry_after == 1
    assert spec.active


def test_parameters_and_delay_with_probability() -> None:
    spec = parse_faults(
        "delay=0.25:1.5,timeout_hold=3,retry_after=7,create_5xx_created=1,dup_gap=0.01"
    )
    assert (spec.delay, spec.delay_seconds) == (0.25, 1.5)
    assert (spec.timeout_hold, spec.retry_after) == (3.0, 7)
    assert (spec.create_5xx_created, spec.dup_gap) == (1.0, 0.01)
    assert spec.active
    # Parameters alone, or a delay of zero seconds, inject nothing.
    assert not parse_faults("timeout_hold=3,retry_after=7,create_5xx_created=1,delay=0").active


def test_canonical_string_parses_back() -> None:
    spec = parse_faults("drop=0.05,delay=0.5:2,create_429=1,retry_after=3,timeout_hold=0.5")
    assert parse_faults(str(spec)) == spec
    assert "delay=0.5:2" in str(spec)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bogus=0.1", "unknown fault 'bogus'"),
        ("dup", "'dup': expected name=value"),
        ("dup=", "'dup=': expected name=value"),
        ("=0.1", "expected name=value"),
        ("dup=1.5", "dup=1.5: must be a probability between 0 and 1"),
        ("drop=-0.1", "drop=-0.1: must be a probability"),
        ("drop=abc", "drop=abc: not a number"),
        ("drop=nan", "drop=nan: not a number"),
        ("timeout_hold=inf", "timeout_hold=inf: not a number"),
        ("timeout_hold=-1", "timeout_hold=-1: must be a number of seconds >= 0"),
        ("retry_after=1.5", "retry_after=1.5: must be a whole number of seconds"),
        ("delay=2:1", "delay=2:1: the probability must be between 0 and 1"),
        ("delay=0.5:-1", "delay=0.5:-1: the seconds must be >= 0"),
        ("delay=0.5:x", "delay=0.5:x: expected SECONDS or p:SECONDS"),
        ("dup=0.1,dup=0.2", "dup is given more than once"),
    ],
)
def test_bad_specs_are_rejected_clearly(text: str, expected: str) -> None:
    with pytest.raises(FaultSpecError) as info:
        parse_faults(text)
    assert expected in str(info.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(FaultSpecError) as info:
        parse_faults("bogus=1,dup=2,drop=0.1,delay=x")
    message = str(info.value)
    assert "bogus" in message
    assert "dup=2" in message
    assert "delay=x" in message
    assert "drop=" not in message  # the good item is not a problem
    assert len(message.split("; ")) == 3


def test_spec_built_in_code_is_checked_too() -> None:
    with pytest.raises(FaultSpecError, match="create_429 must be a probability"):
        FaultSpec(create_429=1.2)
    with pytest.raises(FaultSpecError, match="timeout_hold must be"):
        FaultSpec(timeout_hold=float("nan"))


def _create_decisions(spec: FaultSpec, seed: int) -> list[CreateFault]:
    return [
        decide_create(spec, seed=seed, number=number, request_index=index).fault
        for number in NUMBERS
        for index in (1, 2)
    ]


def _delivery_plans(spec: FaultSpec, seed: int) -> list[tuple[bool, bool, bool, float]]:
    plans = []
    for number in NUMBERS:
        for message_index in range(4):
            plan = plan_delivery(
                spec,
                seed=seed,
                number=number,
                request_index=1,
                message_index=message_index,
                last=message_index == 3,
            )
            plans.append((plan.drop, plan.duplicate, plan.hold_back, plan.delay_seconds))
    return plans


MIXED = FaultSpec(
    dup=0.3,
    reorder=0.3,
    drop=0.2,
    delay=0.5,
    delay_seconds=1.0,
    create_5xx=0.2,
    create_timeout=0.2,
    create_429=0.2,
)


def test_same_seed_same_decisions_other_seed_other_decisions() -> None:
    assert _create_decisions(MIXED, 7) == _create_decisions(MIXED, 7)
    assert _create_decisions(MIXED, 7) != _create_decisions(MIXED, 8)
    assert _delivery_plans(MIXED, 7) == _delivery_plans(MIXED, 7)
    assert _delivery_plans(MIXED, 7) != _delivery_plans(MIXED, 8)
    assert fault_uniform(7, "drop", "+15550000001", 1, 0) == fault_uniform(
        7, "drop", "+15550000001", 1, 0
    )


def test_decisions_depend_on_the_request_and_message_identity() -> None:
    first = decide_create(MIXED, seed=1, number=NUMBERS[0], request_index=1)
    again = decide_create(MIXED, seed=1, number=NUMBERS[0], request_index=1)
    assert first == again
    by_index = {
        decide_create(MIXED, seed=1, number=NUMBERS[0], request_index=i).fault for i in range(1, 60)
    }
    assert len(by_index) > 1


def test_rates_follow_the_probabilities() -> None:
    faults = _create_decisions(MIXED, 3)
    total = len(faults)
    rate_429 = faults.count(CreateFault.RATE_LIMITED) / total
    assert 0.15 < rate_429 < 0.25
    plans = _delivery_plans(MIXED, 3)
    drops = sum(plan[0] for plan in plans) / len(plans)
    assert 0.15 < drops < 0.25
    # A dropped message has no other fault; the last message is never held back.
    assert all(not (dup or held or delay) for drop, dup, held, delay in plans if drop)
    assert not any(plan[2] for plan in plans[3::4])
    assert all(0 <= plan[3] < 1.0 for plan in plans)


def test_certain_faults_and_the_priority_between_them() -> None:
    everything = FaultSpec(create_429=1, create_5xx=1, create_timeout=1)
    decision = decide_create(everything, seed=0, number=NUMBERS[0], request_index=1)
    assert decision.fault is CreateFault.RATE_LIMITED
    assert decision.status_code == 429
    assert not decision.fault.creates
    no_429 = FaultSpec(create_5xx=1, create_timeout=1, create_5xx_created=1)
    decision = decide_create(no_429, seed=0, number=NUMBERS[0], request_index=1)
    assert decision.fault is CreateFault.SERVER_ERROR_CREATED
    assert decision.status_code in SERVER_ERROR_STATUSES
    assert decision.fault.creates
    timeout = decide_create(FaultSpec(create_timeout=1), seed=0, number="x", request_index=1)
    assert (timeout.fault, timeout.status_code) == (CreateFault.TIMEOUT, 201)
    none = decide_create(FaultSpec(), seed=0, number="x", request_index=1)
    assert none.fault is CreateFault.NONE


def test_server_errors_create_about_half_the_time_and_use_every_status() -> None:
    spec = FaultSpec(create_5xx=1)
    decisions = [decide_create(spec, seed=5, number=number, request_index=1) for number in NUMBERS]
    created = sum(d.fault is CreateFault.SERVER_ERROR_CREATED for d in decisions)
    assert 0.4 < created / len(decisions) < 0.6
    assert {d.status_code for d in decisions} == set(SERVER_ERROR_STATUSES)
    never = FaultSpec(create_5xx=1, create_5xx_created=0)
    assert all(
        not decide_create(never, seed=5, number=n, request_index=1).fault.creates for n in NUMBERS
    )


def test_drop_call_loses_every_message_of_the_chosen_calls_only() -> None:
    spec = FaultSpec(drop_call=0.3)
    whole: list[bool] = []
    for number in NUMBERS:
        plans = [
            plan_delivery(
                spec, seed=9, number=number, request_index=1, message_index=i, last=i == 3
            )
            for i in range(4)
        ]
        dropped = call_dropped(spec, seed=9, number=number, request_index=1)
        # One decision per call: all four messages go, or none of them is dropped.
        assert [plan.drop for plan in plans] == [dropped] * 4
        assert all(plan.whole_call == dropped for plan in plans)
        whole.append(dropped)
    assert 0.2 < sum(whole) / len(whole) < 0.4
    assert parse_faults("drop_call=0.3") == spec
    assert str(spec) == "drop_call=0.3"
    assert spec.active
