"""What ``next_open`` and ``next_close`` must agree on with ``is_open``, for any hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from orchestrator.scheduling.calling_hours.opening import is_open, next_close, next_open
from orchestrator.scheduling.calling_hours.schemas import CallingHoursIn


def check_openings_agree(hours: CallingHoursIn, key: str, moment: datetime) -> None:
    """The next opening after ``moment`` is open and nothing before it is; the closing after
    that opening is closed and the instant before it open."""
    opening = next_open(hours, key, moment)
    if opening is None:
        assert not is_open(hours, key, moment)
        return
    assert opening >= moment
    assert is_open(hours, key, opening)
    if opening > moment:
        assert not is_open(hours, key, moment)
        assert not is_open(hours, key, opening - timedelta(microseconds=1))
        assert not is_open(hours, key, max(moment, opening - timedelta(minutes=1)))
    closing = next_close(hours, key, opening)
    if closing is not None:
        assert closing > opening
        assert not is_open(hours, key, closing)
        assert is_open(hours, key, closing - timedelta(microseconds=1))
