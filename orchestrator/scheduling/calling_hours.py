"""Calling hours: contacts are dialed only while their local time is inside a weekly window.

A campaign's ``callingHours`` lists windows of local wall-clock time. With ``"timezone":
"contact"`` each contact is judged in its own zone: the customer's ``timezone`` when given, else
the zones that phonenumbers assigns to the number's region, else the campaign's
``fallbackTimezone``. A number whose region spans several zones is dialed only while the window
is open in every one of them.

A contact's zones are fixed once, at creation, as a *zone key*: zone names joined with ``,``
(``""`` when unknown). The dispatcher groups contacts by key and asks whether each key is open.

Everything outside this module works in aware UTC; local time exists only in here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata, PhoneNumberDesc
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number
from phonenumbers.tzdata import TIMEZONE_LONGEST_PREFIX
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from orchestrator.wire import CAMEL_MODEL_CONFIG

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CONTACT_TIMEZONE = "contact"
MAX_WINDOWS = 50
# How far ahead next_open and next_close look before giving up.
HORIZON = timedelta(days=8)

_MINUTES_PER_DAY = 24 * 60
# [0-9], not \d: \d would accept other scripts' digits, which int() reads but nobody means.
_TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


# --- The callingHours extension field -------------------------------------------------------


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    # "localtime" names the server's own zone, not a place: hours must not move with the host.
    return frozenset(available_timezones() - {"localtime"})


def check_timezone_name(value: str) -> str:
    """``value`` when it names a zone zoneinfo knows, else a validation error."""
    if value not in _zone_names():
        raise PydanticCustomError(
            "timezone", "must be a valid IANA time zone name (e.g. America/New_York)"
        )
    return value


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _minute_of_day(value: str) -> int | None:
    """Minutes since midnight of ``HH:MM``; ``24:00`` is the end of the day."""
    if value == "24:00":
        return _MINUTES_PER_DAY
    match = _TIME_OF_DAY.fullmatch(value)
    if match is None:
        return None
    return int(match[1]) * 60 + int(match[2])


def _validated_minute(value: str) -> int:
    minute = _minute_of_day(value)
    if minute is None:
        raise ValueError(f"not a validated time of day: {value!r}")
    return minute


class CallingWindowIn(BaseModel):
    """The listed days, from ``start`` up to (not including) ``end``, in local time."""

    model_config = CAMEL_MODEL_CONFIG

    days: list[Day] = Field(min_length=1)
    start: str
    end: str

    @field_validator("days")
    @classmethod
    def _distinct_days(cls, days: list[Day]) -> list[Day]:
        if len(set(days)) != len(days):
            raise PydanticCustomError("distinct_days", "must not list a day twice")
        return days

    @field_validator("start")
    @classmethod
    def _start_of_window(cls, start: str) -> str:
        minute = _minute_of_day(start)
        if minute is None or minute == _MINUTES_PER_DAY:
            raise PydanticCustomError("time_of_day", "must be a time HH:MM from 00:00 to 23:59")
        return start

    @field_validator("end")
    @classmethod
    def _end_of_window(cls, end: str, info: ValidationInfo) -> str:
        minute = _minute_of_day(end)
        if minute is None or minute == 0:
            raise PydanticCustomError(
                "time_of_day",
                "must be a time HH:MM from 00:01 to 24:00 (24:00 is the end of the day)",
            )
        # Absent when start failed its own check, which then reports the problem.
        start = info.data.get("start")
        start_minute = _minute_of_day(start) if isinstance(start, str) else None
        if start_minute is not None and minute <= start_minute:
            raise PydanticCustomError(
                "window_order",
                "must be after start; a window cannot cross midnight, so split it into two "
                "windows ({start}-24:00 and 00:00-{end})",
                {"start": start, "end": end},
            )
        return end

    @property
    def start_minute(self) -> int:
        return _validated_minute(self.start)

    @property
    def end_minute(self) -> int:
        return _validated_minute(self.end)


class CallingHoursIn(BaseModel):
    """When contacts may be dialed: inside one of ``windows``, in the contacts' local time."""

    model_config = CAMEL_MODEL_CONFIG

    windows: list[CallingWindowIn] = Field(min_length=1, max_length=MAX_WINDOWS)
    timezone: str = CONTACT_TIMEZONE
    fallback_timezone: str = Field("UTC", alias="fallbackTimezone")

    @field_validator("timezone")
    @classmethod
    def _contact_or_zone(cls, value: str) -> str:
        return value if value == CONTACT_TIMEZONE else check_timezone_name(value)

    @field_validator("fallback_timezone")
    @classmethod
    def _fallback_zone(cls, value: str) -> str:
        return check_timezone_name(value)


# The policy an org can switch on for campaigns that bring no callingHours of their own.
DEFAULT_CALLING_HOURS = CallingHoursIn.model_validate(
    {
        "windows": [{"days": list(DAYS), "start": "08:00", "end": "21:00"}],
        "timezone": CONTACT_TIMEZONE,
        "fallbackTimezone": "UTC",
    }
)


# --- A contact's zone key -------------------------------------------------------------------
#
# phonenumbers takes ~20 µs a number (parse, then validation against every region sharing the
# country code), too slow for every customer of a large create. Its answer for a number is
# decided by regular expressions over the national number, by the number's length, and by a
# longest-prefix lookup of at most TIMEZONE_LONGEST_PREFIX digits. For almost every country no
# expression can tell apart two numbers that share that prefix and length (_settled_by_prefix
# proves it from the metadata), so one phonenumbers answer serves the whole prefix.

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_MAX_COUNTRY_CODE_DIGITS = 3
# Bounds memory in a long-lived worker; the rare refill costs one phonenumbers call a prefix.
_ZONE_KEY_CACHE_LIMIT = 100_000
_zone_keys: dict[tuple[str, int], str] = {}


def contact_zone_key(*, number: str | None, customer_timezone: str | None) -> str:
    """The zone key stored on a contact: the customer's zone, else the number's zones, else ""."""
    if customer_timezone:
        return customer_timezone
    if number is None:
        return ""
    if _E164.fullmatch(number) is None:
        return _parsed_zone_key(number)
    cache_key = (number[1 : 1 + TIMEZONE_LONGEST_PREFIX], len(number))
    key = _zone_keys.get(cache_key)
    if key is None:
        key, settled = _e164_zone_key(number)
        if settled:
            if len(_zone_keys) >= _ZONE_KEY_CACHE_LIMIT:
                _zone_keys.clear()
            _zone_keys[cache_key] = key
    return key


def _key_of(zones: tuple[str, ...]) -> str:
    return ",".join(sorted(zone for zone in zones if zone != UNKNOWN_TIMEZONE))


def _parsed_zone_key(number: str) -> str:
    """phonenumbers' own answer, from a full parse."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ""
    return _key_of(time_zones_for_number(parsed))


def _e164_zone_key(number: str) -> tuple[str, bool]:
    """The key of a ``+<digits>`` number, and whether it holds for its whole prefix."""
    digits = number[1:]
    country_code = _country_code(digits)
    if country_code is None:
        # phonenumbers rejects it on its first digits alone.
        return "", True
    national = digits[len(str(country_code)) :]
    if _may_strip_national_prefix(country_code, national):
        # Such numbers are rare (a trunk 0 kept after the country code): take parse's answer.
        return _parsed_zone_key(number), False
    zones = time_zones_for_number(_phone_number(country_code, national))
    return _key_of(zones), _settled_by_prefix(country_code)


def _country_code(digits: str) -> int | None:
    """The calling code phonenumbers reads off the front: the shortest one that exists."""
    for length in range(1, _MAX_COUNTRY_CODE_DIGITS + 1):
        candidate = int(digits[:length])
        if candidate in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return candidate
    return None


def _phone_number(country_code: int, national: str) -> phonenumbers.PhoneNumber:
    """What phonenumbers.parse makes of ``+<country code><national>`` when it strips nothing."""
    parsed = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(national))
    zeros = len(national) - len(national.lstrip("0"))
    if zeros and len(national) > 1:
        # As parse does: remember leading zeros, never counting the last digit as one.
        parsed.italian_leading_zero = True
        counted = min(zeros, len(national) - 1)
        if counted != 1:
            parsed.number_of_leading_zeros = counted
    return parsed


def _may_strip_national_prefix(country_code: int, national: str) -> bool:
    """Whether parse may rewrite the national number, taking it for a trunk prefix and more."""
    pattern = _national_prefix(country_code)
    match = pattern.match(national) if pattern is not None else None
    if match is None:
        return False
    # An empty match that captures nothing leaves the number as it was; Argentina's pattern
    # matches every number that way.
    return bool(match.end()) or any(group is not None for group in match.groups())


@lru_cache(maxsize=512)  # one entry per country calling code
def _national_prefix(country_code: int) -> re.Pattern[str] | None:
    """The trunk-prefix pattern parse tries, from the metadata of the code's main region."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    pattern = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(pattern) if pattern else None


@lru_cache(maxsize=512)  # one entry per country calling code
def _settled_by_prefix(country_code: int) -> bool:
    """Whether phonenumbers judges this country's numbers on length and leading digits alone.

    Leading digits means the first TIMEZONE_LONGEST_PREFIX digits with the country code. Every
    expression phonenumbers may try on a national number (each region's leading digits, trunk
    prefix and number-type patterns) is checked: where anything stricter than ``\\d`` can
    reach past the prefix, numbers sharing it may still differ, so nothing is shared.
    """
    try:
        depth = max(_pattern_depth(pattern) for pattern in _country_patterns(country_code))
    except ValueError:
        return False
    return len(str(country_code)) + depth <= TIMEZONE_LONGEST_PREFIX


def _country_patterns(country_code: int) -> Iterator[str]:
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code]:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
        if metadata is None:
            continue
        yield from (
            pattern
            for pattern in (metadata.leading_digits, metadata.national_prefix_for_parsing)
            if pattern
        )
        # Every description, not a fixed list: a type phonenumbers adds later is covered too.
        for value in vars(metadata).values():
            if isinstance(value, PhoneNumberDesc) and value.national_number_pattern:
                yield value.national_number_pattern


@dataclass(frozen=True)
class _Reach:
    """What part of a digit string a piece of pattern can look at.

    ``width``: the most characters it consumes. ``depth``: how far from its start any test
    stricter than ``\\d`` can reach (0 when it has none). Two digit strings of equal length that
    agree on their first ``depth`` characters get exactly the same match attempt.
    """

    width: int
    depth: int


_NOTHING = _Reach(width=0, depth=0)


def _then(first: _Reach, second: _Reach) -> _Reach:
    later = first.width + second.depth if second.depth else 0
    return _Reach(width=first.width + second.width, depth=max(first.depth, later))


def _either(first: _Reach, second: _Reach) -> _Reach:
    return _Reach(width=max(first.width, second.width), depth=max(first.depth, second.depth))


def _pattern_depth(pattern: str) -> int:
    """``depth`` of a whole metadata pattern; ValueError for syntax outside its small dialect."""
    reader = _PatternReader(pattern)
    reach = reader.alternation()
    if reader.peek():
        raise ValueError(f"unexpected {reader.peek()!r} in {pattern!r}")
    return reach.depth


class _PatternReader:
    """Reads phonenumbers' dialect: digits, ``\\d``, digit classes, groups, ``|``, ``?``,
    ``{n}``, ``{n,m}`` and ``$``. Anything else raises ValueError, so the reading never
    guesses."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.position = 0

    def peek(self) -> str:
        return self.pattern[self.position : self.position + 1]

    def take(self) -> str:
        char = self.peek()
        if not char:
            raise ValueError(f"{self.pattern!r} ends early")
        self.position += 1
        return char

    def alternation(self) -> _Reach:
        reach = self.sequence()
        while self.peek() == "|":
            self.take()
            reach = _either(reach, self.sequence())
        return reach

    def sequence(self) -> _Reach:
        reach = _NOTHING
        while self.peek() not in ("", "|", ")"):
            reach = _then(reach, self.repeated())
        return reach

    def repeated(self) -> _Reach:
        piece = self.atom()
        if self.peek() == "?":
            self.take()
            return _either(piece, _NOTHING)
        if self.peek() != "{":
            return piece
        self.take()
        most = self.count()
        if self.peek() == ",":
            self.take()
            most = self.count()
        if self.take() != "}":
            raise ValueError(f"unsupported repeat in {self.pattern!r}")
        # The most repetitions bound both how far it reaches and what follows.
        reach = _NOTHING
        for _ in range(most):
            reach = _then(reach, piece)
        return reach

    def count(self) -> int:
        start = self.position
        while self.peek().isascii() and self.peek().isdigit():
            self.take()
        if start == self.position:
            raise ValueError(f"unsupported repeat in {self.pattern!r}")
        return int(self.pattern[start : self.position])

    def atom(self) -> _Reach:
        char = self.take()
        if char in "0123456789":
            return _Reach(width=1, depth=1)
        if char == "\\" and self.take() == "d":
            return _Reach(width=1, depth=0)
        if char == "[":
            return self.digit_class()
        if char == "(":
            if self.pattern.startswith("?:", self.position):
                self.position += 2
            inner = self.alternation()
            if self.take() != ")":
                raise ValueError(f"unbalanced group in {self.pattern!r}")
            return inner
        if char == "$":
            # Matches at the end only: depends on the length, which numbers sharing a key share.
            return _NOTHING
        raise ValueError(f"unsupported {char!r} in {self.pattern!r}")

    def digit_class(self) -> _Reach:
        members = 0
        while (char := self.take()) != "]":
            if char not in "0123456789-":
                raise ValueError(f"unsupported class in {self.pattern!r}")
            members += 1
        if not members:
            raise ValueError(f"empty class in {self.pattern!r}")
        return _Reach(width=1, depth=1)


# --- Opening times --------------------------------------------------------------------------

_Interval = tuple[datetime, datetime]
# Zones never change offset twice within this span, so probing at this step sees every change.
_OFFSET_PROBE = timedelta(hours=6)
# Computed a little past the horizon, so that "still open at the horizon" shows as such.
_LOOKAHEAD = HORIZON + timedelta(minutes=1)


def zones_for_key(hours: CallingHoursIn, key: str) -> tuple[str, ...]:
    """The zones whose local time decides whether contacts with ``key`` may be dialed."""
    if hours.timezone != CONTACT_TIMEZONE:
        return (hours.timezone,)
    if not key:
        return (hours.fallback_timezone,)
    return tuple(key.split(","))


def is_open(hours: CallingHoursIn, key: str, at: datetime) -> bool:
    """Whether ``at`` is inside a window in every zone of ``key``."""
    moment = _as_utc(at)
    return all(_open_in(hours, _zone(name), moment) for name in zones_for_key(hours, key))


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


def _open_in(hours: CallingHoursIn, zone: ZoneInfo, moment: datetime) -> bool:
    local = moment.astimezone(zone)
    day = DAYS[local.weekday()]
    minute = local.hour * 60 + local.minute
    return any(
        day in window.days and window.start_minute <= minute < window.end_minute
        for window in hours.windows
    )


def _open_intervals(
    hours: CallingHoursIn, key: str, *, start: datetime, stop: datetime
) -> list[_Interval]:
    """The open stretches of [start, stop) in UTC, in order, touching ones joined."""
    result: list[_Interval] | None = None
    for name in zones_for_key(hours, key):
        intervals = _zone_intervals(hours, _zone(name), start=start, stop=stop)
        result = intervals if result is None else _intersection(result, intervals)
    return result or []


def _zone_intervals(
    hours: CallingHoursIn, zone: ZoneInfo, *, start: datetime, stop: datetime
) -> list[_Interval]:
    # Within a stretch of constant offset local time is UTC shifted, so windows map as
    # intervals: skipped wall times simply never occur, repeated ones occur twice.
    pieces = [
        piece
        for begin, end, offset in _offset_stretches(zone, start=start, stop=stop)
        for piece in _window_pieces(hours, begin=begin, end=end, offset=offset)
    ]
    return _joined(sorted(pieces))


def _window_pieces(
    hours: CallingHoursIn, *, begin: datetime, end: datetime, offset: timedelta
) -> Iterator[_Interval]:
    """Window time within [begin, end), throughout which the zone is ``offset`` from UTC."""
    local_begin = (begin + offset).replace(tzinfo=None)
    local_end = (end + offset).replace(tzinfo=None)
    for day in _dates(local_begin.date(), local_end.date()):
        midnight = datetime.combine(day, time())
        for window in hours.windows:
            if DAYS[day.weekday()] not in window.days:
                continue
            low = max(midnight + timedelta(minutes=window.start_minute), local_begin)
            high = min(midnight + timedelta(minutes=window.end_minute), local_end)
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
