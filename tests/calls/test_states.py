"""Exhaustive tests of the call state machine."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.calls.states import (
    CALL_STATUS_RANK,
    counter_bucket,
    is_in_flight,
    next_call_status,
)
from orchestrator.models import CallStatus

ORDER = [
    CallStatus.SCHEDULED,
    CallStatus.CLAIMED,
    CallStatus.DIALING,
    CallStatus.QUEUED,
    CallStatus.RINGING,
    CallStatus.IN_PROGRESS,
    CallStatus.FORWARDING,
]
TERMINAL = [CallStatus.ENDED, CallStatus.FAILED]


def test_every_status_has_a_rank() -> None:
    assert set(CALL_STATUS_RANK) == set(CallStatus)


@pytest.mark.parametrize(("current", "reported"), list(itertools.product(CallStatus, CallStatus)))
def test_status_moves_only_forward(current: CallStatus, reported: CallStatus) -> None:
    result = next_call_status(current, reported)
    if current in TERMINAL:
        assert result is None, "terminal states are sticky"
    elif reported in TERMINAL or ORDER.index(reported) > ORDER.index(current):
        assert result == reported
    else:
        assert result is None


def test_late_ringing_after_ended_changes_nothing() -> None:
    assert next_call_status(CallStatus.ENDED, CallStatus.RINGING) is None


def test_in_flight_is_everything_from_the_claim_to_a_terminal_state() -> None:
    assert [s for s in CallStatus if is_in_flight(s)] == ORDER[1:]


@pytest.mark.parametrize(
    ("status", "bucket"),
    [
        (CallStatus.SCHEDULED, None),
        (CallStatus.CLAIMED, "calls_counter_queued"),
        (CallStatus.DIALING, "calls_counter_queued"),
        (CallStatus.QUEUED, "calls_counter_queued"),
        (CallStatus.RINGING, "calls_counter_in_progress"),
        (CallStatus.IN_PROGRESS, "calls_counter_in_progress"),
        (CallStatus.FORWARDING, "calls_counter_in_progress"),
        (CallStatus.ENDED, "calls_counter_ended"),
        (CallStatus.FAILED, None),
    ],
)
def test_counter_bucket(status: CallStatus, bucket: str | None) -> None:
    assert counter_bucket(status) == bucket
