"""The call state machine: status only moves forward, terminal states are sticky."""

from __future__ import annotations

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


def is_in_flight(status: CallStatus) -> bool:
    """Holding capacity: from the claim that reserved it until the call ends."""
    return status in IN_FLIGHT_CALL_STATUSES


def counter_bucket(status: CallStatus) -> str | None:
    """The v1 campaign counter a call in ``status`` is counted under."""
    if status in (CallStatus.CLAIMED, CallStatus.DIALING, CallStatus.QUEUED):
        return "calls_counter_queued"
    if status in (CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.FORWARDING):
        return "calls_counter_in_progress"
    if status == CallStatus.ENDED:
        return "calls_counter_ended"
    return None
