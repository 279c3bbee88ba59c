"""Opening times: whether a zone key is inside its calling hours, and when that changes.

Calling hours come down to conditions (``conditions``): the campaign's windows in each zone of
the key, and its profile's rules. A key is open when all of them hold, so explicit windows
only ever narrow a profile.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from orchestrator.scheduling.calling_hours.conditions import Condition, Span, spans_of
from orchestrator.scheduling.calling_hours.holiday_dates import HolidayCalendar
from orchestrator.scheduling.calling_hours.profiles import profile_conditions
from orchestrator.scheduling.calling_hours.schemas import CONTACT_TIMEZONE, DAYS, CallingHoursIn
from orchestrator.scheduling.calling_hours.zone_key import key_places

# How far ahead next_open and next_close look before giving up.
HORIZON = timedelta(days=8)

_Interval = tuple[datetime, datetime]
# Zones never change offset twice within this span, so probing at this step sees every change.
_OFFSET_PROBE = timedelta(hours=6)
# Computed a little past the horizon, so that "still open at the horizon" shows as such.
_LOOKAHEAD = HORIZON + timedelta(minutes=1)


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zones_for_key(hours: CallingHoursIn, key: str) -> tuple[str, ...]:
    """The zones whose local time decides whether ``hours``' windows admit contacts with ``key``:
    its zones, else its state's ("|FL"), else the fallback zone."""
    if hours.timezone != CONTACT_TIMEZONE:
        return (hours.timezone,)
    return key_places(key) or (hours.fallback_timezone,)


def conditions_for(hours: CallingHoursIn, key: str) -> tuple[Condition, ...]:
    """Everything an instant must satisfy for contacts with ``key`` to be dialed."""
    found: list[Condition] = []
    if hours.windows is not None:
        spans = spans_of(hours.windows)
        found += [Condition(zone, spans) for zone in zones_for_key(hours, key)]
    if hours.profile is not None:
        found += profile_conditions(hours.profile, key)
    return tuple(found)


def is_open(hours: CallingHoursIn, key: str, at: datetime) -> bool:
    """Whether ``at`` satisfies every condition of ``hours`` for ``key``."""
    moment = _as_utc(at)
    return all(_holds(condition, moment) for condition in conditions_for(hours, key))


def next_open(hours: CallingHoursIn, key: str, after: datetime) -> datetime | None:
    """The first instant at or after ``after`` that is open; None if none within HORIZON."""
    start = _as_utc(after)
    intervals = _open_intervals(hours, key, start=start, stop=start + _LOOKAHEAD)
    if not intervals or intervals[0][0] > start + HORIZON:
        return None
    return intervals[0][0]


def next_close(hours: CallingHoursIn, key: str, at: datetime) -> datetime | None:
    """When an open ``at`` stops being open (None: not within HORIZON); ``at`` if closed."""
    start = _as_utc(at)
    intervals = _open_intervals(hours, key, start=start, stop=start + _LOOKAHEAD)
    if not intervals or intervals[0][0] > start:
        return start
    closing = intervals[0][1]
    return closing if closing <= start + HORIZON else None


def _as_utc(moment: datetime) -> datetime:
    # A naive time would silently be read in the server's zone.
    if moment.utcoffset() is None:
        raise ValueError("calling hours need an aware datetime")
    return moment.astimezone(UTC)


def _holds(condition: Condition, moment: datetime) -> bool:
    local = moment.astimezone(_zone(condition.zone))
    if condition.closed is not None and condition.closed.closes(local.date()):
        return False
    day = DAYS[local.weekday()]
    minute = local.hour * 60 + local.minute
    return any(day in span.days and span.start <= minute < span.end for span in condition.spans)


def _open_intervals(
    hours: CallingHoursIn, key: str, *, start: datetime, stop: datetime
) -> list[_Interval]:
    """The open stretches of [start, stop) in UTC, in order, touching ones joined."""
    result: list[_Interval] | None = None
    for condition in conditions_for(hours, key):
        intervals = _condition_intervals(condition, start=start, stop=stop)
        result = intervals if result is None else _intersection(result, intervals)
    return result or []


def _condition_intervals(
    condition: Condition, *, start: datetime, stop: datetime
) -> list[_Interval]:
    # Within a stretch of constant offset local time is UTC shifted, so windows map as
    # intervals: skipped wall times simply never occur, repeated ones occur twice.
    pieces = [
        piece
        for begin, end, offset in _offset_stretches(_zone(condition.zone), start=start, stop=stop)
        for piece in _window_pieces(
            condition.spans, condition.closed, begin=begin, end=end, offset=offset
        )
    ]
    return _joined(sorted(pieces))


def _window_pieces(
    spans: tuple[Span, ...],
    closed: HolidayCalendar | None,
    *,
    begin: datetime,
    end: datetime,
    offset: timedelta,
) -> Iterator[_Interval]:
    """Window time within [begin, end), throughout which the zone is ``offset`` from UTC."""
    local_begin = (begin + offset).replace(tzinfo=None)
    local_end = (end + offset).replace(tzinfo=None)
    for day in _dates(local_begin.date(), local_end.date()):
        if closed is not None and closed.closes(day):
            continue
        midnight = datetime.combine(day, time())
        for span in spans:
            if DAYS[day.weekday()] not in span.days:
                continue
            low = max(midnight + timedelta(minutes=span.start), local_begin)
            high = min(midnight + timedelta(minutes=span.end), local_end)
            if low < high:
                yield (low - offset).replace(tzinfo=UTC), (high - offset).replace(tzinfo=UTC)


def _dates(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _offset_stretches(
    zone: ZoneInfo, *, start: datetime, stop: datetime
) -> list[tuple[datetime, datetime, timedelta]]:
    """[start, stop) cut where the zone's UTC offset changes, each piece with its offset."""
    stretches: list[tuple[datetime, datetime, timedelta]] = []
    offset = _offset_at(zone, start)
    begin = probe = start
    while probe < stop:
        ahead = min(probe + _OFFSET_PROBE, stop)
        if _offset_at(zone, ahead) == offset:
            probe = ahead
            continue
        change = _first_change(zone, before=probe, after=ahead, offset=offset)
        stretches.append((begin, change, offset))
        begin = probe = change
        offset = _offset_at(zone, change)
    stretches.append((begin, stop, offset))
    return stretches


def _offset_at(zone: ZoneInfo, moment: datetime) -> timedelta:
    # ZoneInfo always knows the offset of an aware instant; ``or`` only satisfies the type.
    return moment.astimezone(zone).utcoffset() or timedelta(0)


def _first_change(
    zone: ZoneInfo, *, before: datetime, after: datetime, offset: timedelta
) -> datetime:
    """The instant in (before, after] where the zone leaves ``offset``.

    Zone rules change on whole seconds, so bisecting over whole seconds finds it exactly.
    """
    low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _offset_at(zone, datetime.fromtimestamp(middle, UTC)) == offset:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _joined(intervals: list[_Interval]) -> list[_Interval]:
    """Sorted intervals with overlapping and touching ones merged."""
    joined: list[_Interval] = []
    for low, high in intervals:
        if joined and low <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], high))
        else:
            joined.append((low, high))
    return joined


def _intersection(first: list[_Interval], second: list[_Interval]) -> list[_Interval]:
    result: list[_Interval] = []
    i = j = 0
    while i < len(first) and j < len(second):
        low = max(first[i][0], second[j][0])
        high = min(first[i][1], second[j][1])
        if low < high:
            result.append((low, high))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return result
