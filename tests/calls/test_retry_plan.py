"""Tests of the retry plan: its validation and the decision taken after each call attempt."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from orchestrator.calls.ended_reasons import completes_contact, ended_reason_table
from orchestrator.calls.retry_plan import (
    TRANSIENT_BASE_DELAY_SECONDS,
    TRANSIENT_RETRY_CAP,
    RetryDecision,
    RetryPlanIn,
    decide_retry,
    is_transient,
    known_retry_on_entries,
    plan_from_extensions,
)
from orchestrator.wire import nest_messages

ALL_REASONS = sorted(ended_reason_table())
TRANSIENT_REASON = "call.start.error-subscription-concurrency-limit-reached"
SIP_480 = "call.in-progress.error-providerfault-outbound-sip-480-temporarily-unavailable"


def make_plan(**fields: Any) -> RetryPlanIn:
    return RetryPlanIn.model_validate({"maxAttempts": 3, **fields})


def errors_of(body: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        RetryPlanIn.model_validate(body)
    return nest_messages(caught.value.errors())


def simulate(plan: RetryPlanIn | None, outcomes: Sequence[str | None]) -> list[RetryDecision]:
    """Dial one contact, ending each attempt with the next outcome, until no retry is due."""
    decisions: list[RetryDecision] = []
    transient_failures = 0
    for attempts_made, outcome in enumerate(outcomes, start=1):
        decision = decide_retry(
            plan,
            ended_reason=outcome,
            attempts_made=attempts_made,
            transient_failures=transient_failures,
        )
        decisions.append(decision)
        transient_failures += is_transient(outcome)
        if not decision.retry:
            break
    return decisions


# --- validation ---------------------------------------------------------------------------


def test_unknown_retry_on_entry_is_named_by_its_index() -> None:
    body = {"maxAttempts": 2, "retryOn": ["customer-busy", "voicemail", "nope"]}
    assert errors_of(body) == ["retryOn.2 must be a known endedReason or category"]


def test_every_bad_entry_is_reported() -> None:
    body = {"maxAttempts": 2, "retryOn": ["x", "busy", "y"]}
    assert errors_of(body) == [
        "retryOn.0 must be a known endedReason or category",
        "retryOn.2 must be a known endedReason or category",
    ]


@pytest.mark.parametrize(
    ("max_attempts", "message"),
    [
        (0, "maxAttempts must not be less than 1"),
        (21, "maxAttempts must not be greater than 20"),
        (2.5, "maxAttempts must be an integer number"),
    ],
)
def test_max_attempts_bounds(max_attempts: object, message: str) -> None:
    assert errors_of({"maxAttempts": max_attempts}) == [message]


@pytest.mark.parametrize("max_attempts", [1, 20])
def test_max_attempts_limits_are_accepted(max_attempts: int) -> None:
    assert make_plan(maxAttempts=max_attempts).max_attempts == max_attempts


def test_max_attempts_is_required() -> None:
    assert errors_of({}) == ["maxAttempts should not be empty"]


def test_extra_field_is_rejected() -> None:
    assert errors_of({"maxAttempts": 2, "retryDelay": 5}) == [
        "property retryDelay should not exist"
    ]


@pytest.mark.parametrize(
    ("field", "value", "pattern"),
    [
        # Float bounds may be written 0 or 0.0, as for any float field of the API.
        ("delaySeconds", -1, r"delaySeconds must not be less than 0(\.0)?"),
        ("delaySeconds", 30 * 86400 + 1, r"delaySeconds must not be greater than 2592000(\.0)?"),
        ("backoffMultiplier", 0.5, r"backoffMultiplier must not be less than 1(\.0)?"),
        ("backoffMultiplier", 11, r"backoffMultiplier must not be greater than 10(\.0)?"),
        ("maxDelaySeconds", -1, r"maxDelaySeconds must not be less than 0(\.0)?"),
        ("retryOn", "busy", r"retryOn must be an array"),
        ("retryOn", [7], r"retryOn\.0 must be a string"),
    ],
)
def test_field_bounds(field: str, value: object, pattern: str) -> None:
    [message] = errors_of({"maxAttempts": 2, field: value})
    assert re.fullmatch(pattern, message), message


def test_duplicate_entries_are_rejected() -> None:
    body = {"maxAttempts": 2, "retryOn": ["busy", "voicemail", "busy"]}
    assert errors_of(body) == ["retryOn must not contain busy more than once"]


def test_retry_on_holds_at_most_200_entries() -> None:
    entries = sorted(known_retry_on_entries())
    assert make_plan(retryOn=entries[:200]).retry_on == entries[:200]
    assert errors_of({"maxAttempts": 2, "retryOn": entries[:201]}) == [
        "retryOn must contain no more than 200 elements"
    ]


def test_wire_names_and_defaults() -> None:
    plan = RetryPlanIn.model_validate({"maxAttempts": 4})
    assert plan.retry_on == ["no-answer", "busy"]
    assert (plan.delay_seconds, plan.backoff_multiplier, plan.max_delay_seconds) == (
        300.0,
        1.0,
        None,
    )
    assert plan.model_dump(by_alias=True) == {
        "maxAttempts": 4,
        "retryOn": ["no-answer", "busy"],
        "delaySeconds": 300.0,
        "backoffMultiplier": 1.0,
        "maxDelaySeconds": None,
    }


def test_python_names_are_accepted_too() -> None:
    plan = RetryPlanIn.model_validate({"max_attempts": 2, "delay_seconds": 9})
    assert (plan.max_attempts, plan.delay_seconds) == (2, 9.0)


def test_qualified_and_unqualified_categories_are_known() -> None:
    plan = make_plan(retryOn=["no-answer", "no-answer(sip-480)", "account/billing"])
    assert plan.retry_on == ["no-answer", "no-answer(sip-480)", "account/billing"]


def test_default_retry_on_entries_are_known() -> None:
    assert set(make_plan().retry_on) <= known_retry_on_entries()


# --- plan_from_extensions -----------------------------------------------------------------


@pytest.mark.parametrize("extensions", [None, {}, {"other": 1}, {"retryPlan": None}])
def test_no_stored_plan(extensions: dict[str, Any] | None) -> None:
    assert plan_from_extensions(extensions) is None


def test_stored_plan_round_trips() -> None:
    plan = make_plan(retryOn=["voicemail", "customer-busy"], delaySeconds=60, maxDelaySeconds=600)
    stored = {"retryPlan": plan.model_dump(by_alias=True)}
    assert plan_from_extensions(stored) == plan


# --- is_transient -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "transient"),
    [
        (TRANSIENT_REASON, True),
        ("worker-shutdown", True),
        ("call.in-progress.error-providerfault-transport-never-connected", True),
        ("pipeline-error-openai-voice-failed", False),
        ("customer-busy", False),
        ("customer-did-not-answer", False),
        ("voicemail", False),
        ("not-a-reason", False),
        (None, False),
    ],
)
def test_is_transient(reason: str | None, transient: bool) -> None:
    assert is_transient(reason) is transient


def test_transient_reasons_follow_the_table_hint() -> None:
    expected = {
        reason
        for reason, (_category, hint) in ended_reason_table().items()
        if hint in ("retry-soon", "retry-after-backoff")
    }
    assert {reason for reason in ALL_REASONS if is_transient(reason)} == expected
    assert TRANSIENT_REASON in expected


def test_no_transient_reason_completes_a_contact() -> None:
    assert not [r for r in ALL_REASONS if is_transient(r) and completes_contact(r)]


# --- matching -----------------------------------------------------------------------------


def first_attempt(plan: RetryPlanIn | None, reason: str | None) -> RetryDecision:
    return decide_retry(plan, ended_reason=reason, attempts_made=1, transient_failures=0)


def test_matches_by_reason_value() -> None:
    plan = make_plan(retryOn=["customer-busy"])
    assert first_attempt(plan, "customer-busy").retry
    assert first_attempt(plan, "customer-did-not-answer").reason == "not-retryable"


def test_matches_by_category() -> None:
    plan = make_plan(retryOn=["no-answer"])
    assert first_attempt(plan, "customer-did-not-answer").reason == "retry-plan"
    assert first_attempt(plan, SIP_480).reason == "retry-plan", "no-answer(sip-480) is no-answer"
    assert not first_attempt(plan, "customer-busy").retry


def test_qualified_category_matches_only_its_own_reasons() -> None:
    plan = make_plan(retryOn=["no-answer(sip-480)"])
    assert first_attempt(plan, SIP_480).retry
    assert not first_attempt(plan, "customer-did-not-answer").retry


@pytest.mark.parametrize("reason", ALL_REASONS)
def test_every_reason_with_an_empty_retry_on(reason: str) -> None:
    for plan in (None, make_plan(retryOn=[])):
        decision = first_attempt(plan, reason)
        assert decision.retry is is_transient(reason)
        assert decision.transient is is_transient(reason)


@pytest.mark.parametrize("reason", ALL_REASONS)
def test_every_reason_listed_by_its_category_is_retried(reason: str) -> None:
    category = ended_reason_table()[reason][0]
    decision = first_attempt(make_plan(retryOn=[category]), reason)
    assert decision.retry
    assert decision.reason == ("transient" if is_transient(reason) else "retry-plan")


@pytest.mark.parametrize("reason", [r for r in ALL_REASONS if completes_contact(r)])
def test_contact_completing_reasons_are_not_retried_by_default(reason: str) -> None:
    decision = first_attempt(make_plan(), reason)
    assert decision == RetryDecision(
        retry=False, delay_seconds=0.0, transient=False, reason="not-retryable"
    )


def test_voicemail_is_retried_only_when_listed() -> None:
    assert not first_attempt(make_plan(), "voicemail").retry
    assert not first_attempt(make_plan(retryOn=["no-answer", "busy"]), "voicemail").retry
    assert first_attempt(make_plan(retryOn=["voicemail"]), "voicemail").retry


@pytest.mark.parametrize("reason", [None, "", "not-a-reason", "no-answer"])
def test_unknown_reasons_are_never_retried(reason: str | None) -> None:
    every_entry = sorted(known_retry_on_entries())[:200]
    for plan in (None, make_plan(), make_plan(retryOn=every_entry)):
        assert first_attempt(plan, reason) == RetryDecision(
            retry=False, delay_seconds=0.0, transient=False, reason="unknown-ended-reason"
        )


def test_no_plan_means_no_retry() -> None:
    assert first_attempt(None, "customer-busy").reason == "no-retry-plan"


# --- attempts and timing ------------------------------------------------------------------


@pytest.mark.parametrize("max_attempts", [1, 2, 3, 7, 20])
def test_exactly_max_attempts_then_stop(max_attempts: int) -> None:
    plan = make_plan(maxAttempts=max_attempts)
    decisions = simulate(plan, ["customer-did-not-answer"] * 30)
    assert len(decisions) == max_attempts
    assert [d.retry for d in decisions] == [True] * (max_attempts - 1) + [False]
    assert decisions[-1].reason == "max-attempts-reached"


def test_backoff_sequence_is_capped_by_max_delay() -> None:
    plan = make_plan(maxAttempts=6, delaySeconds=60, backoffMultiplier=2, maxDelaySeconds=300)
    delays = [d.delay_seconds for d in simulate(plan, ["customer-busy"] * 6)]
    assert delays == [60.0, 120.0, 240.0, 300.0, 300.0, 0.0]


def test_backoff_without_max_delay_keeps_growing() -> None:
    plan = make_plan(maxAttempts=4, delaySeconds=10, backoffMultiplier=1.5)
    delays = [d.delay_seconds for d in simulate(plan, ["customer-busy"] * 4)]
    assert delays == [10.0, 15.0, 22.5, 0.0]


def test_fixed_delay_by_default() -> None:
    delays = [d.delay_seconds for d in simulate(make_plan(), ["customer-busy"] * 3)]
    assert delays == [300.0, 300.0, 0.0]


def test_max_delay_below_delay_caps_the_first_retry_too() -> None:
    plan = make_plan(delaySeconds=600, maxDelaySeconds=120)
    assert first_attempt(plan, "customer-busy").delay_seconds == 120.0


# --- transient failures -------------------------------------------------------------------


def test_transient_failures_are_retried_without_a_plan_until_the_cap() -> None:
    decisions = simulate(None, [TRANSIENT_REASON] * 10)
    assert len(decisions) == TRANSIENT_RETRY_CAP + 1
    assert [d.delay_seconds for d in decisions[:-1]] == [
        TRANSIENT_BASE_DELAY_SECONDS * 2**n for n in range(TRANSIENT_RETRY_CAP)
    ]
    assert all(d.transient and d.reason == "transient" for d in decisions[:-1])
    assert decisions[-1] == RetryDecision(
        retry=False, delay_seconds=0.0, transient=False, reason="transient-cap-reached"
    )


def test_transient_failures_ignore_retry_on() -> None:
    decision = first_attempt(make_plan(retryOn=["voicemail"]), TRANSIENT_REASON)
    assert (decision.retry, decision.transient, decision.reason) == (True, True, "transient")


def test_transient_failures_do_not_use_up_plan_attempts() -> None:
    plan = make_plan(maxAttempts=2)
    outcomes = [TRANSIENT_REASON, "customer-busy", TRANSIENT_REASON, "customer-busy"]
    decisions = simulate(plan, [*outcomes, "customer-busy"])
    assert [d.reason for d in decisions] == [
        "transient",
        "retry-plan",
        "transient",
        "max-attempts-reached",
    ]


def test_transient_failure_is_retried_even_when_plan_attempts_are_spent() -> None:
    plan = make_plan(maxAttempts=1)
    decision = decide_retry(
        plan, ended_reason=TRANSIENT_REASON, attempts_made=2, transient_failures=0
    )
    assert decision.retry
    assert decision.transient


def test_transient_failures_past_the_cap_follow_the_plan() -> None:
    plan = make_plan(maxAttempts=2, retryOn=["concurrency-limit"])
    decisions = simulate(plan, [TRANSIENT_REASON] * 10)
    reasons = [d.reason for d in decisions]
    assert reasons == ["transient"] * TRANSIENT_RETRY_CAP + ["retry-plan", "max-attempts-reached"]


def test_plan_attempt_numbering_skips_transient_failures() -> None:
    plan = make_plan(maxAttempts=5, delaySeconds=10, backoffMultiplier=2)
    decision = decide_retry(
        plan, ended_reason="customer-busy", attempts_made=3, transient_failures=2
    )
    assert decision.delay_seconds == 10.0, "the first plan attempt waits the base delay"


@pytest.mark.parametrize(("attempts_made", "transient_failures"), [(0, 0), (1, 1), (2, -1), (3, 5)])
def test_inconsistent_counts_are_refused(attempts_made: int, transient_failures: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        decide_retry(
            make_plan(),
            ended_reason="customer-busy",
            attempts_made=attempts_made,
            transient_failures=transient_failures,
        )


# --- properties ---------------------------------------------------------------------------

INTERESTING = [
    "customer-busy",
    "customer-did-not-answer",
    "voicemail",
    SIP_480,
    TRANSIENT_REASON,
    "worker-shutdown",
    "pipeline-error-openai-voice-failed",
]
outcomes_strategy = st.lists(
    st.one_of(
        st.sampled_from(INTERESTING),
        st.sampled_from(ALL_REASONS),
        st.sampled_from([None, "not-a-reason"]),
    ),
    min_size=1,
    max_size=60,
)
plans_strategy = st.builds(
    RetryPlanIn,
    maxAttempts=st.integers(min_value=1, max_value=20),
    retryOn=st.lists(
        st.sampled_from(["no-answer", "busy", "voicemail", "concurrency-limit", "provider-failed"]),
        unique=True,
    ),
    delaySeconds=st.floats(min_value=0, max_value=86400),
    backoffMultiplier=st.floats(min_value=1, max_value=10),
    maxDelaySeconds=st.one_of(st.none(), st.floats(min_value=0, max_value=30 * 86400)),
)


@given(plan=st.one_of(st.none(), plans_strategy), outcomes=outcomes_strategy)
def test_attempts_never_exceed_max_attempts_plus_transient_cap(
    plan: RetryPlanIn | None, outcomes: list[str | None]
) -> None:
    decisions = simulate(plan, outcomes)
    max_attempts = plan.max_attempts if plan is not None else 1
    assert len(decisions) <= max_attempts + TRANSIENT_RETRY_CAP
    assert sum(d.transient for d in decisions) <= TRANSIENT_RETRY_CAP
    assert sum(d.reason == "retry-plan" for d in decisions) <= max_attempts - 1


@given(plan=plans_strategy, outcomes=outcomes_strategy)
def test_delays_are_sane(plan: RetryPlanIn, outcomes: list[str | None]) -> None:
    decisions = simulate(plan, outcomes)
    for decision in decisions:
        assert decision.delay_seconds >= 0
        if not decision.retry:
            assert decision.delay_seconds == 0
            assert not decision.transient
        if plan.max_delay_seconds is not None and decision.reason == "retry-plan":
            assert decision.delay_seconds <= plan.max_delay_seconds
    plan_delays = [d.delay_seconds for d in decisions if d.reason == "retry-plan"]
    assert plan_delays == sorted(plan_delays), "backoff never shortens the wait"
