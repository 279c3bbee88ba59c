"""The callingHours schema: windows, a legal profile, days, times of day and zone names."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from orchestrator.scheduling.calling_hours.schemas import (
    CONTACT_TIMEZONE,
    DAYS,
    DEFAULT_CALLING_HOURS,
    US_TCPA,
    CallingHoursIn,
    CallingHoursProfile,
    CallingWindowIn,
    check_timezone_name,
    profile_hours,
)
from orchestrator.wire import nest_messages
from tests.factories import calling_hours, calling_window

LONDON = "Europe/London"
SYDNEY = "Australia/Sydney"
KOLKATA = "Asia/Kolkata"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def _errors(body: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        CallingHoursIn.model_validate(body)
    return nest_messages(caught.value.errors())


def test_window_minutes_with_24_00_as_end_of_day() -> None:
    window = CallingWindowIn.model_validate(calling_window("08:30", "24:00", ["sat", "sun"]))
    assert (window.start_minute, window.end_minute) == (510, 1440)
    assert window.days == ["sat", "sun"]


def test_default_policy_is_every_day_8_to_21_in_the_contacts_zone() -> None:
    assert DEFAULT_CALLING_HOURS.timezone == CONTACT_TIMEZONE
    assert DEFAULT_CALLING_HOURS.fallback_timezone == "UTC"
    assert DEFAULT_CALLING_HOURS.windows is not None
    [window] = DEFAULT_CALLING_HOURS.windows
    assert (window.days, window.start, window.end) == (list(DAYS), "08:00", "21:00")


def test_stored_form_uses_camel_case_and_reads_back() -> None:
    hours = calling_hours(calling_window("09:00", "17:00", WEEKDAYS), fallback=KOLKATA)
    stored = hours.model_dump(by_alias=True)
    assert stored["fallbackTimezone"] == KOLKATA
    assert "fallback_timezone" not in stored
    assert CallingHoursIn.model_validate(stored) == hours


def test_fields_also_accept_their_python_names() -> None:
    hours = CallingHoursIn.model_validate(
        {"windows": [calling_window("09:00", "17:00")], "fallback_timezone": LONDON}
    )
    assert hours.fallback_timezone == LONDON


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (["monday"], "windows.0.days.0 must be one of the following values: mon, tue"),
        (["Mon"], "windows.0.days.0 must be one of the following values: mon, tue"),
        ([], "windows.0.days List should have at least 1 item"),
        (["mon", "tue", "mon"], "windows.0.days must not list a day twice"),
    ],
)
def test_bad_days_are_rejected(days: list[str], message: str) -> None:
    [error] = _errors({"windows": [calling_window("09:00", "17:00", days)]})
    assert error.startswith(message)


@pytest.mark.parametrize("start", ["9:00", "24:00", "12:60", "ab:cd", "", "09:00 ", "0\u0669:00"])
def test_bad_start_times_are_rejected(start: str) -> None:
    assert _errors({"windows": [calling_window(start, "23:00")]}) == [
        "windows.0.start must be a time HH:MM from 00:00 to 23:59"
    ]


@pytest.mark.parametrize("end", ["00:00", "24:01", "25:00", "7:00", "07:5"])
def test_bad_end_times_are_rejected(end: str) -> None:
    assert _errors({"windows": [calling_window("00:00", end)]}) == [
        "windows.0.end must be a time HH:MM from 00:01 to 24:00 (24:00 is the end of the day)"
    ]


def test_end_must_be_after_start() -> None:
    [error] = _errors({"windows": [calling_window("09:00", "09:00")]})
    assert error.startswith("windows.0.end must be after start")


def test_window_crossing_midnight_is_told_to_split() -> None:
    assert _errors(
        {"windows": [calling_window("09:00", "17:00"), calling_window("22:00", "06:00")]}
    ) == [
        "windows.1.end must be after start; a window cannot cross midnight, so split it into "
        "two windows (22:00-24:00 and 00:00-06:00)"
    ]


@pytest.mark.parametrize(
    ("field", "zone"),
    [
        ("timezone", "Mars/Olympus_Mons"),
        ("timezone", "america/new_york"),
        ("timezone", "localtime"),
        ("fallbackTimezone", "EST+5"),
        ("fallbackTimezone", CONTACT_TIMEZONE),
    ],
)
def test_unknown_zones_are_rejected(field: str, zone: str) -> None:
    body = {"windows": [calling_window("09:00", "17:00")], field: zone}
    assert _errors(body) == [f"{field} must be a valid IANA time zone name (e.g. America/New_York)"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"windows": [calling_window("09:00", "17:00")], "zone": "UTC"},
            "property zone should not exist",
        ),
        (
            {"windows": [{**calling_window("09:00", "17:00"), "label": "x"}]},
            "property windows.0.label should not exist",
        ),
    ],
)
def test_unknown_fields_are_rejected(body: dict[str, Any], message: str) -> None:
    assert _errors(body) == [message]


def test_between_one_and_fifty_windows() -> None:
    assert _errors({"windows": []}) != []
    assert _errors({"windows": [calling_window("09:00", "10:00")] * 51}) != []
    assert len(calling_hours(*[calling_window("09:00", "10:00")] * 50).windows or []) == 50


def test_check_timezone_name() -> None:
    assert check_timezone_name(SYDNEY) == SYDNEY
    with pytest.raises(PydanticCustomError) as caught:
        check_timezone_name("Europe/Atlantis")
    assert caught.value.type == "timezone"
    assert "valid IANA time zone name" in caught.value.message()


def test_a_profile_alone_or_with_windows_and_nothing_else_refused() -> None:
    alone = CallingHoursIn.model_validate({"profile": US_TCPA})
    assert (alone.profile, alone.windows) == (US_TCPA, None)
    both = CallingHoursIn.model_validate(
        {"profile": US_TCPA, "windows": [calling_window("07:00", "22:00")]}
    )
    assert both.profile == US_TCPA
    assert both.windows is not None
    assert _errors({"timezone": "contact"}) == ["body must set windows or profile (or both)"]
    assert _errors({"profile": None}) == ["body must set windows or profile (or both)"]


def test_an_unknown_profile_is_refused_naming_the_known_ones() -> None:
    assert _errors({"profile": "eu-gdpr"}) == [
        "profile must be one of the following values: us-tcpa"
    ]


def test_a_profile_is_stored_and_shown_without_the_absent_field() -> None:
    stored = profile_hours(US_TCPA).model_dump(by_alias=True)
    assert stored == {"profile": US_TCPA, "timezone": "contact", "fallbackTimezone": "UTC"}
    assert CallingHoursIn.model_validate(stored) == profile_hours(US_TCPA)
    windows_only = calling_hours(calling_window("09:00", "17:00")).model_dump(by_alias=True)
    assert "profile" not in windows_only


def test_the_org_policy_takes_exactly_the_known_profiles() -> None:
    from pydantic import ValidationError

    from orchestrator.policy.schemas import PolicyIn

    for profile in get_args(CallingHoursProfile):
        assert PolicyIn.model_validate({"callingHoursProfile": profile}).calling_hours_profile
    with pytest.raises(ValidationError):
        PolicyIn.model_validate({"callingHoursProfile": "us-tcpa-lite"})
