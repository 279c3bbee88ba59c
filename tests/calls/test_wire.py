"""Vapi's view of a call's status: a pure function of the row's status, its earliestAt and now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.calls.wire import vapi_status
from orchestrator.models import CallStatus

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("not_before", "now", "expected"),
    [
        (None, NOW, "queued"),
        (NOW + timedelta(seconds=1), NOW, "scheduled"),
        (NOW, NOW, "queued"),
        (NOW - timedelta(hours=1), NOW, "queued"),
        (NOW, None, "scheduled"),
        (None, None, "queued"),
    ],
)
def test_a_waiting_direct_call_is_scheduled_until_its_earliest_time(
    not_before: datetime | None, now: datetime | None, expected: str
) -> None:
    assert vapi_status(CallStatus.SCHEDULED, not_before=not_before, now=now) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (CallStatus.CLAIMED, "queued"),
        (CallStatus.DIALING, "queued"),
        (CallStatus.QUEUED, "queued"),
        (CallStatus.RINGING, "ringing"),
        (CallStatus.IN_PROGRESS, "in-progress"),
        (CallStatus.FORWARDING, "forwarding"),
        (CallStatus.ENDED, "ended"),
        (CallStatus.FAILED, "ended"),
    ],
)
def test_other_statuses_ignore_the_time(status: CallStatus, expected: str) -> None:
    future = NOW + timedelta(days=1)
    assert vapi_status(status, not_before=future, now=NOW) == expected
    assert vapi_status(status) == expected
