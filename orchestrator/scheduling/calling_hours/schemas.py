"""The ``callingHours`` extension field of a campaign: weekly windows of local time."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from orchestrator.wire import CAMEL_MODEL_CONFIG

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CONTACT_TIMEZONE = "contact"
MAX_WINDOWS = 50
# The legal profiles (see ``profiles``): one name for the campaign field and the org policy.
US_TCPA: Final = "us-tcpa"
CallingHoursProfile = Literal["us-tcpa"]

_MINUTES_PER_DAY = 24 * 60
# [0-9], not \d: \d would accept other scripts' digits, which int() reads but nobody means.
_TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    # "localtime" names the server's own zone, not a place: hours must not move with the host.
    return frozenset(available_timezones() - {"localtime"})


def is_zone_name(value: str) -> bool:
    """Whether ``value`` names a zone zoneinfo knows (a set lookup: nothing is kept)."""
    return value in _zone_names()


def check_timezone_name(value: str) -> str:
    """``value`` when it names a zone zoneinfo knows, else a validation error."""
    if not is_zone_name(value):
        raise PydanticCustomError(
            "timezone", "must be a valid IANA time zone name (e.g. America/New_York)"
        )
    return value


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
    """When contacts may be dialed: inside one of ``windows``, in the contacts' local time, and
    inside what ``profile`` allows (windows given with a profile narrow it, never widen it)."""

    model_config = CAMEL_MODEL_CONFIG

    # Left out of answers when absent, as they were stored.
    windows: list[CallingWindowIn] | None = Field(
        None, min_length=1, max_length=MAX_WINDOWS, exclude_if=lambda value: value is None
    )
    profile: CallingHoursProfile | None = Field(
        None,
        exclude_if=lambda value: value is None,
        description="A legal calling-hours profile: us-tcpa is 08:00-21:00 in the recipient's "
        "local time plus the rules of the number's US state.",
    )
    timezone: str = CONTACT_TIMEZONE
    fallback_timezone: str = Field("UTC", alias="fallbackTimezone")

    @model_validator(mode="after")
    def _windows_or_profile(self) -> CallingHoursIn:
        if self.windows is None and self.profile is None:
            raise PydanticCustomError("calling_hours", "must set windows or profile (or both)")
        return self

    @field_validator("timezone")
    @classmethod
    def _contact_or_zone(cls, value: str) -> str:
        return value if value == CONTACT_TIMEZONE else check_timezone_name(value)

    @field_validator("fallback_timezone")
    @classmethod
    def _fallback_zone(cls, value: str) -> str:
        return check_timezone_name(value)


def profile_hours(profile: CallingHoursProfile) -> CallingHoursIn:
    """A profile alone: what an org's default profile means for a campaign without hours."""
    return CallingHoursIn(profile=profile)


# The policy an org can switch on for campaigns that bring no callingHours of their own.
DEFAULT_CALLING_HOURS = CallingHoursIn.model_validate(
    {
        "windows": [{"days": list(DAYS), "start": "08:00", "end": "21:00"}],
        "timezone": CONTACT_TIMEZONE,
        "fallbackTimezone": "UTC",
    }
)
