"""Exhaustive tests of the call state machine."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.calls.states import (
    CALL_STATUS_RANK,
    CallEvent,
    call_event_move,
    call_status_after,
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


# Our own moves: each from exactly one status to one other; every other pair is refused.
EVENT_MOVES = {
    (CallStatus.SCHEDULED, CallEvent.CLAIM): CallStatus.CLAIMED,
    (CallStatus.CLAIMED, CallEvent.DIAL): CallStatus.DIALING,
    (CallStatus.DIALING, CallEvent.RELEASE): CallStatus.CLAIMED,
    (CallStatus.DIALING, CallEvent.DEFER): CallStatus.SCHEDULED,
}


@pytest.mark.parametrize(("status", "event"), list(itertools.product(CallStatus, CallEvent)))
def test_each_event_moves_one_status_only(status: CallStatus, event: CallEvent) -> None:
    assert call_status_after(status, event) == EVENT_MOVES.get((status, event))


@pytest.mark.parametrize("event", list(CallEvent))
def test_an_events_compare_and_set_is_its_one_move(event: CallEvent) -> None:
    source, target = call_event_move(event)
    assert EVENT_MOVES[(source, event)] == target


def test_release_and_defer_are_the_only_moves_back() -> None:
    back = [(s, e) for (s, e), t in EVENT_MOVES.items() if ORDER.index(t) < ORDER.index(s)]
    assert back == [(CallStatus.DIALING, CallEvent.RELEASE), (CallStatus.DIALING, CallEvent.DEFER)]
