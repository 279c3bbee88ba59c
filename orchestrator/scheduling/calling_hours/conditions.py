"""What calling hours come down to: conditions, each a weekly timetable read in one zone.

An instant is open for a zone key when every condition that the key's hours impose holds:
the campaign's own windows in each of the key's zones, a profile's floor in each of them, and
each applicable state rule (its windows, in local time or in the fixed zone the law names, on
days that are not its holidays in the recipient's local date).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orchestrator.scheduling.calling_hours.holiday_dates import HolidayCalendar
from orchestrator.scheduling.calling_hours.schemas import CallingWindowIn


@dataclass(frozen=True)
class Span:
    """On ``days``, from minute ``start`` of the day up to (not including) minute ``end``."""

    days: frozenset[str]
    start: int
    end: int


@dataclass(frozen=True)
class Condition:
    """Open while local time in ``zone`` is inside one of ``spans`` on a day ``closed`` (when
    given) does not close."""

    zone: str
    spans: tuple[Span, ...]
    closed: HolidayCalendar | None = None


def spans_of(windows: Iterable[CallingWindowIn]) -> tuple[Span, ...]:
    return tuple(
        Span(frozenset(window.days), window.start_minute, window.end_minute) for window in windows
    )
