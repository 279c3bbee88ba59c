"""Holidays as date rules, turned into the concrete dates of any year.

A rule is a fixed date (with the days it is also observed on when it falls on given weekdays),
the nth weekday of a month (optionally shifted: Election Day is the Tuesday after the first
Monday of November), or a distance from Western Easter. ``HolidayCalendar.closes`` answers for
one local date; each year's dates are computed once.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from orchestrator.scheduling.calling_hours.schemas import DAYS

# Observed-day shifts: (weekday name, days to add) pairs; several days for one weekday close
# each of them. Pairs, not a dict, so that rules hash (each calendar's years are cached).
Shifts = tuple[tuple[str, tuple[int, ...]], ...]


@dataclass(frozen=True)
class DateRule:
    """One holiday. Exactly one of (month+day), (month+weekday+nth) or easter is set."""

    name: str
    month: int | None = None
    day: int | None = None
    weekday: str | None = None
    nth: int | None = None
    shift: int = 0
    easter: int | None = None
    observed: Shifts = ()
    even_years_only: bool = False

    def dates(self, year: int) -> Iterator[date]:
        """The holiday in ``year`` and the days it is observed on (maybe in the next or last
        year: a Saturday New Year's Day observed on the Friday before)."""
        if self.even_years_only and year % 2:
            return
        actual = self._actual(year)
        yield actual
        weekday = DAYS[actual.weekday()]
        for shifted_weekday, offsets in self.observed:
            if shifted_weekday == weekday:
                yield from (actual + timedelta(days=days) for days in offsets)

    def _actual(self, year: int) -> date:
        if self.easter is not None:
            return easter_sunday(year) + timedelta(days=self.easter)
        assert self.month is not None
        if self.day is not None:
            return date(year, self.month, self.day)
        assert self.weekday is not None and self.nth is not None
        return nth_weekday(year, self.month, self.weekday, self.nth) + timedelta(days=self.shift)


# Compared and hashed by identity: each state's calendar is made once, and its years are
# cached by it, so a lookup need not hash every rule.
@dataclass(frozen=True, eq=False)
class HolidayCalendar:
    """A state's holidays; ``key`` names it (the state's code)."""

    key: str
    rules: tuple[DateRule, ...]

    def closes(self, day: date) -> bool:
        return day in _dates_of_year(self, day.year)

    def dates_of_year(self, year: int) -> frozenset[date]:
        return _dates_of_year(self, year)


@lru_cache(maxsize=1024)
def _dates_of_year(holidays: HolidayCalendar, year: int) -> frozenset[date]:
    # A neighbouring year's holiday may be observed in this one (Saturday 1 January: Friday
    # 31 December before it), so three years of rules are looked at.
    return frozenset(
        day
        for rule in holidays.rules
        for source_year in (year - 1, year, year + 1)
        for day in rule.dates(source_year)
        if day.year == year
    )


def nth_weekday(year: int, month: int, weekday: str, nth: int) -> date:
    """The ``nth`` (1..5, or -1 for the last) ``weekday`` of a month; ValueError if none."""
    target = DAYS.index(weekday)
    matching = [
        day
        for day in calendar.Calendar().itermonthdates(year, month)
        if day.month == month and day.weekday() == target
    ]
    if nth == -1:
        return matching[-1]
    if not 1 <= nth <= len(matching):
        raise ValueError(f"{month}/{year} has no {weekday} number {nth}")
    return matching[nth - 1]


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday: the anonymous Gregorian computus."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)
