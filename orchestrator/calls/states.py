"""The call state machine: status only moves forward, terminal states are sticky.

What the provider reports moves a call forward (``next_call_status``). Our own moves before
the provider knows the call are named events (``CallEvent``), each a compare-and-set from
one status to another; the two that go back (``dialing`` to ``claimed``, and a direct call's
``dialing`` to ``scheduled``) are among them.
"""

from __future__ import annotations

from enum import StrEnum

from orchestrator.models.enums import IN_FLIGHT_CALL_STATUSES, CallStatus

CALL_STATUS_RANK: dict[CallStatus, int] = {
    CallStatus.SCHEDULED: -1,
    CallStatus.CLAIMED: 0,
    CallStatus.DIALING: 1,
    CallStatus.QUEUED: 2,
    CallStatus.RINGING: 3,
    CallStatus.IN_PROGRESS: 4,
    CallStatus.FORWARDING: 5,
    CallStatus.ENDED: 6,
    CallStatus.FAILED: 6,
}


def next_call_status(current: CallStatus, reported: CallStatus) -> CallStatus | None:
    """The status a call moves to when ``reported`` arrives, or None when it changes nothing.

    A late or repeated message (``ringing`` after ``ended``, a second ``ended``) is ignored,
    so webhooks may arrive twice or out of order without moving a call backwards.
    """
    if CALL_STATUS_RANK[reported] > CALL_STATUS_RANK[current]:
        return reported
    return None


class CallEvent(StrEnum):
    # A direct call's time came and the scheduler reserved capacity for it.
    CLAIM = "claim"
    # A worker won the compare-and-set: it sends the create, exactly once.
    DIAL = "dial"
    # Nothing was created (the provider was busy or unreachable, the rate gate said later, or
    # the provider has no such call): the call may be dialed again.
    RELEASE = "release"
    # A direct call the compliance gate held back at its send (the frequency caps allow no
    # attempt to its number yet): it waits again, scheduled, until they do.
    DEFER = "defer"


_EVENT_MOVES: dict[CallEvent, tuple[CallStatus, CallStatus]] = {
    CallEvent.CLAIM: (CallStatus.SCHEDULED, CallStatus.CLAIMED),
    CallEvent.DIAL: (CallStatus.CLAIMED, CallStatus.DIALING),
    CallEvent.RELEASE: (CallStatus.DIALING, CallStatus.CLAIMED),
    CallEvent.DEFER: (CallStatus.DIALING, CallStatus.SCHEDULED),
}


def call_event_move(event: CallEvent) -> tuple[CallStatus, CallStatus]:
    """The one status ``event`` applies to and the status it leads to (a compare-and-set)."""
    return _EVENT_MOVES[event]


def call_status_after(status: CallStatus, event: CallEvent) -> CallStatus | None:
    """Where ``event`` takes a call in ``status``, or None when it does not apply to it."""
    source, target = _EVENT_MOVES[event]
    return target if status == source else None


def is_in_flight(status: CallStatus) -> bool:
    """Holding capacity: from the claim that reserved it until the call ends."""
    return status in IN_FLIGHT_CALL_STATUSES
