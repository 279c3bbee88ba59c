"""Calling hours: the callingHours schema, contacts' zone keys and opening times across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers.timezone import time_zones_for_number
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from orchestrator.scheduling.calling_hours import (
    CONTACT_TIMEZONE,
    DAYS,
    DEFAULT_CALLING_HOURS,
    HORIZON,
    CallingHoursIn,
    CallingWindowIn,
    _pattern_depth,
    check_timezone_name,
    contact_zone_key,
    is_open,
    next_close,
    next_open,
    zones_for_key,
)
from orchestrator.wire import nest_messages

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
SYDNEY = "Australia/Sydney"
KOLKATA = "Asia/Kolkata"
# Idaho: the region of +1 208 222 spans Mountain and Pacific time.
IDAHO_NUMBER = "+12082222222"
IDAHO_KEY = "America/Boise,America/Los_Angeles"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def _window(start: str, end: str, days: list[str] | None = None) -> dict[str, Any]:
    return {"days": list(DAYS) if days is None else days, "start": start, "end": end}


def _hours(
    *windows: dict[str, Any], timezone: str = CONTACT_TIMEZONE, fallback: str = "UTC"
) -> CallingHoursIn:
    return CallingHoursIn.model_validate(
        {"windows": list(windows), "timezone": timezone, "fallbackTimezone": fallback}
    )


def _at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _errors(body: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        CallingHoursIn.model_validate(body)
    return nest_messages(caught.value.errors())


def _reference_key(number: str) -> str:
    """phonenumbers' own answer, uncached."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ""
    zones = time_zones_for_number(parsed)
    return ",".join(sorted(zone for zone in zones if zone != "Etc/Unknown"))


# --- Schema ---------------------------------------------------------------------------------


def test_window_minutes_with_24_00_as_end_of_day() -> None:
    window = CallingWindowIn.model_validate(_window("08:30", "24:00", ["sat", "sun"]))
    assert (window.start_minute, window.end_minute) == (510, 1440)
    assert window.days == ["sat", "sun"]


def test_default_policy_is_every_day_8_to_21_in_the_contacts_zone() -> None:
    assert DEFAULT_CALLING_HOURS.timezone == CONTACT_TIMEZONE
    assert DEFAULT_CALLING_HOURS.fallback_timezone == "UTC"
    [window] = DEFAULT_CALLING_HOURS.windows
    assert (window.days, window.start, window.end) == (list(DAYS), "08:00", "21:00")


def test_stored_form_uses_camel_case_and_reads_back() -> None:
    hours = _hours(_window("09:00", "17:00", WEEKDAYS), fallback=KOLKATA)
    stored = hours.model_dump(by_alias=True)
    assert stored["fallbackTimezone"] == KOLKATA
    assert "fallback_timezone" not in stored
    assert CallingHoursIn.model_validate(stored) == hours


def test_fields_also_accept_their_python_names() -> None:
    hours = CallingHoursIn.model_validate(
        {"windows": [_window("09:00", "17:00")], "fallback_timezone": LONDON}
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
    [error] = _errors({"windows": [_window("09:00", "17:00", days)]})
    assert error.startswith(message)


@pytest.mark.parametrize("start", ["9:00", "24:00", "12:60", "ab:cd", "", "09:00 ", "0\u0669:00"])
def test_bad_start_times_are_rejected(start: str) -> None:
    assert _errors({"windows": [_window(start, "23:00")]}) == [
        "windows.0.start must be a time HH:MM from 00:00 to 23:59"
    ]


@pytest.mark.parametrize("end", ["00:00", "24:01", "25:00", "7:00", "07:5"])
def test_bad_end_times_are_rejected(end: str) -> None:
    assert _errors({"windows": [_window("00:00", end)]}) == [
        "windows.0.end must be a time HH:MM from 00:01 to 24:00 (24:00 is the end of the day)"
    ]


def test_end_must_be_after_start() -> None:
    [error] = _errors({"windows": [_window("09:00", "09:00")]})
    assert error.startswith("windows.0.end must be after start")


def test_window_crossing_midnight_is_told_to_split() -> None:
    assert _errors({"windows": [_window("09:00", "17:00"), _window("22:00", "06:00")]}) == [
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
    body = {"windows": [_window("09:00", "17:00")], field: zone}
    assert _errors(body) == [f"{field} must be a valid IANA time zone name (e.g. America/New_York)"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"windows": [_window("09:00", "17:00")], "zone": "UTC"}, "property zone should not exist"),
        (
            {"windows": [{**_window("09:00", "17:00"), "label": "x"}]},
            "property windows.0.label should not exist",
        ),
    ],
)
def test_unknown_fields_are_rejected(body: dict[str, Any], message: str) -> None:
    assert _errors(body) == [message]


def test_between_one_and_fifty_windows() -> None:
    assert _errors({"windows": []}) != []
    assert _errors({"windows": [_window("09:00", "10:00")] * 51}) != []
    assert len(_hours(*[_window("09:00", "10:00")] * 50).windows) == 50


def test_check_timezone_name() -> None:
    assert check_timezone_name(SYDNEY) == SYDNEY
    with pytest.raises(PydanticCustomError) as caught:
        check_timezone_name("Europe/Atlantis")
    assert caught.value.type == "timezone"
    assert "valid IANA time zone name" in caught.value.message()


# --- Zone keys ------------------------------------------------------------------------------


def test_customer_timezone_wins_over_the_number() -> None:
    key = contact_zone_key(number="+12125550123", customer_timezone=KOLKATA)
    assert key == KOLKATA


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("+12125550123", NEW_YORK),
        ("+13125550123", "America/Chicago"),
        ("+12135550123", "America/Los_Angeles"),
        ("+18085550123", "Pacific/Honolulu"),
        ("+442079460958", LONDON),
        ("+61291234567", SYDNEY),
        ("+1 (212) 555-0123", NEW_YORK),
    ],
)
def test_zone_of_the_number(number: str, key: str) -> None:
    assert contact_zone_key(number=number, customer_timezone=None) == key


def test_number_spanning_several_zones_lists_them_all_sorted() -> None:
    assert contact_zone_key(number=IDAHO_NUMBER, customer_timezone=None) == IDAHO_KEY
    russian = contact_zone_key(number="+79123456789", customer_timezone="")
    zones = russian.split(",")
    assert len(zones) > 5
    assert zones == sorted(zones)
    assert "Europe/Moscow" in zones


@pytest.mark.parametrize(
    "number",
    [None, "", "hello", "+12125550", "+19995550123", "+999123456789", "+1212555012345678"],
)
def test_unknown_zone_is_empty(number: str | None) -> None:
    assert contact_zone_key(number=number, customer_timezone=None) == ""


SPREAD = [
    "+12125550123",  # New York
    "+13055550123",  # Miami
    "+13125550123",  # Chicago
    "+17205550123",  # Denver
    "+16025550123",  # Phoenix: no DST
    "+12135550123",  # Los Angeles
    "+19075550123",  # Anchorage
    "+18085550123",  # Honolulu
    "+14165550123",  # Toronto
    IDAHO_NUMBER,
    "+442079460958",  # London
    "+447911123456",  # UK mobile
    "+61291234567",  # Sydney
    "+61893456789",  # Perth
    "+61412345678",  # Australian mobile
    "+74951234567",  # Moscow
    "+79123456789",  # Russian mobile: many zones
    "+73512345678",  # Chelyabinsk
    "+5511912345678",  # Sao Paulo
    "+559232345678",  # Manaus
    "+5561912345678",  # Brasilia
    "+911123456789",  # Delhi
    "+8613812345678",  # China
    "+390612345678",  # Rome: national number with a leading zero
    "+5491123456789",  # Argentina mobile
    "+573001234567",  # Colombia
    "+995322123456",  # Georgia
    "+576010555012",  # Bogota
    "+4402079460958",  # London, written with the trunk 0 kept
    "+310201234567",  # Amsterdam, likewise
    "+19995550123",  # invalid area code
    "+1212555012",  # too short
]


def test_zone_keys_equal_phonenumbers_uncached() -> None:
    for number in SPREAD:
        expected = _reference_key(number)
        assert contact_zone_key(number=number, customer_timezone=None) == expected, number
        # The second call may come from the prefix cache: same answer.
        assert contact_zone_key(number=number, customer_timezone=None) == expected, number


def test_trunk_zero_after_the_country_code_is_dropped_as_phonenumbers_does() -> None:
    assert contact_zone_key(number="+4402079460958", customer_timezone=None) == LONDON
    assert contact_zone_key(number="+310201234567", customer_timezone=None) == "Europe/Amsterdam"


@pytest.mark.parametrize(
    "numbers",
    [("+576010555012", "+576010555112"), ("+576010555112", "+576010555012")],
)
def test_numbers_sharing_nine_digits_can_still_differ(numbers: tuple[str, str]) -> None:
    # Colombia validates a 10th digit: one is a Bogota line, the other no number at all.
    expected = {"+576010555012": "America/Bogota", "+576010555112": ""}
    for number in numbers:
        assert contact_zone_key(number=number, customer_timezone=None) == expected[number]


def test_example_numbers_of_every_region_equal_phonenumbers() -> None:
    examples = [
        phonenumbers.example_number_for_type(region, kind)
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for kind in (
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.TOLL_FREE,
            phonenumbers.PhoneNumberType.VOIP,
        )
    ]
    numbers = [
        phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        for example in examples
        if example is not None
    ]
    assert len(numbers) > 500
    mismatches = [
        number
        for number in numbers
        for sibling in (number, number[:-1] + str(9 - int(number[-1])))
        if contact_zone_key(number=sibling, customer_timezone=None) != _reference_key(sibling)
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    ("pattern", "depth"),
    [
        (r"\d{7}", 0),
        (r"2\d{6}", 1),
        (r"[2-9]\d{6}", 1),
        (r"\d{2}[1-9]\d{4}", 3),
        (r"(?:1\d|2)3\d{5}", 3),
        (r"1{3}\d", 3),
        (r"\d{1,3}5", 4),
        (r"(?:12)?3", 3),
        (r"([2-9]\d{6})$|1", 1),
    ],
)
def test_pattern_depth_bounds_what_a_pattern_can_tell_apart(pattern: str, depth: int) -> None:
    assert _pattern_depth(pattern) == depth


@pytest.mark.parametrize("pattern", [r"\D", "[^5]", r"\d+", r"\d{2,}", "1.", "(12", "1)", "[]"])
def test_pattern_depth_refuses_syntax_it_does_not_know(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"unsupported|unexpected|ends early|unbalanced|empty"):
        _pattern_depth(pattern)


COUNTRY_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


@st.composite
def _numbers_sharing_a_prefix(draw: st.DrawFn) -> tuple[str, str]:
    """Two E.164 strings with the same first nine digits and length, else unrelated."""
    country_code = str(draw(st.sampled_from(COUNTRY_CODES)))
    length = draw(st.integers(min_value=max(7, len(country_code) + 1), max_value=15))
    first = country_code + draw(_digits(length - len(country_code)))
    return "+" + first, "+" + first[:9] + draw(_digits(len(first[9:])))


def _digits(count: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=count, max_size=count)


@given(_numbers_sharing_a_prefix())
def test_numbers_sharing_a_prefix_each_get_phonenumbers_answer(pair: tuple[str, str]) -> None:
    for number in pair:
        assert contact_zone_key(number=number, customer_timezone=None) == _reference_key(number)


# --- Opening times --------------------------------------------------------------------------

NINE_TO_EIGHT = _hours(_window("09:00", "20:00"))


@pytest.mark.parametrize(
    ("zone", "day", "opening"),
    [
        # New York springs forward on 2026-03-08 and falls back on 2026-11-01.
        (NEW_YORK, _at(2026, 3, 7, 5), _at(2026, 3, 7, 14)),
        (NEW_YORK, _at(2026, 3, 8, 5), _at(2026, 3, 8, 13)),
        (NEW_YORK, _at(2026, 10, 31, 5), _at(2026, 10, 31, 13)),
        (NEW_YORK, _at(2026, 11, 1, 5), _at(2026, 11, 1, 14)),
        # London: 2026-03-29 and 2026-10-25.
        (LONDON, _at(2026, 3, 28, 1), _at(2026, 3, 28, 9)),
        (LONDON, _at(2026, 3, 29, 1), _at(2026, 3, 29, 8)),
        (LONDON, _at(2026, 10, 24, 1), _at(2026, 10, 24, 8)),
        (LONDON, _at(2026, 10, 25, 1), _at(2026, 10, 25, 9)),
        # Sydney leaves DST on 2026-04-05 and enters it on 2026-10-04.
        (SYDNEY, _at(2026, 4, 3, 12), _at(2026, 4, 3, 22)),
        (SYDNEY, _at(2026, 4, 4, 12), _at(2026, 4, 4, 23)),
        (SYDNEY, _at(2026, 10, 2, 12), _at(2026, 10, 2, 23)),
        (SYDNEY, _at(2026, 10, 3, 12), _at(2026, 10, 3, 22)),
        # Kolkata: half-hour offset, no DST.
        (KOLKATA, _at(2026, 3, 8, 0), datetime(2026, 3, 8, 3, 30, tzinfo=UTC)),
    ],
)
def test_nine_oclock_opening_across_dst(zone: str, day: datetime, opening: datetime) -> None:
    assert not is_open(NINE_TO_EIGHT, zone, day)
    assert next_open(NINE_TO_EIGHT, zone, day) == opening
    assert is_open(NINE_TO_EIGHT, zone, opening)
    assert not is_open(NINE_TO_EIGHT, zone, opening - timedelta(microseconds=1))
    assert next_close(NINE_TO_EIGHT, zone, opening) == opening + timedelta(hours=11)


def test_window_starting_in_the_skipped_hour_opens_when_the_clock_jumps() -> None:
    hours = _hours(_window("02:30", "04:00"))
    # New York skips 02:00-03:00 on 2026-03-08: 07:00 UTC is 03:00 EDT.
    assert next_open(hours, NEW_YORK, _at(2026, 3, 8, 5)) == _at(2026, 3, 8, 7)
    assert not is_open(hours, NEW_YORK, _at(2026, 3, 8, 6, 59))
    assert next_close(hours, NEW_YORK, _at(2026, 3, 8, 7)) == _at(2026, 3, 8, 8)
    # A window wholly inside the skipped hour has no local time to be open in that day.
    skipped = _hours(_window("02:15", "02:45"))
    assert next_open(skipped, NEW_YORK, _at(2026, 3, 8, 5)) == _at(2026, 3, 9, 6, 15)
    # London skips 01:00-02:00 on 2026-03-29; Sydney skips 02:00-03:00 on 2026-10-04.
    late_night = _hours(_window("01:30", "03:00"))
    assert next_open(late_night, LONDON, _at(2026, 3, 28, 23)) == _at(2026, 3, 29, 1)
    assert next_open(hours, SYDNEY, _at(2026, 10, 3, 12)) == _at(2026, 10, 3, 16)


def test_repeated_hour_opens_at_its_first_occurrence_and_again_at_its_second() -> None:
    # New York repeats 01:00-02:00 on 2026-11-01: first as EDT (05:00 UTC), then EST (06:00).
    hours = _hours(_window("01:30", "01:45"))
    opening = next_open(hours, NEW_YORK, _at(2026, 11, 1, 4))
    assert opening == _at(2026, 11, 1, 5, 30)
    assert next_close(hours, NEW_YORK, opening) == _at(2026, 11, 1, 5, 45)
    assert next_open(hours, NEW_YORK, _at(2026, 11, 1, 5, 50)) == _at(2026, 11, 1, 6, 30)
    assert next_close(hours, NEW_YORK, _at(2026, 11, 1, 6, 31)) == _at(2026, 11, 1, 6, 45)
    # London repeats 01:00-02:00 on 2026-10-25: 00:00 and 01:00 UTC.
    assert next_open(hours, LONDON, _at(2026, 10, 24, 23)) == _at(2026, 10, 25, 0, 30)


def test_window_open_across_the_change_stays_one_stretch() -> None:
    hours = _hours(_window("00:30", "05:00"))
    # 00:30 EST is 05:30 UTC; 05:00 EDT is 09:00 UTC, one hour less of wall clock elapsed.
    assert next_close(hours, NEW_YORK, _at(2026, 3, 8, 5, 30)) == _at(2026, 3, 8, 9)


def test_weekday_only_and_weekend_only_windows_in_a_fixed_zone() -> None:
    weekdays = _hours(_window("09:00", "17:00", WEEKDAYS), timezone=LONDON)
    friday_evening = _at(2026, 6, 12, 16, 30)  # 17:30 BST
    assert not is_open(weekdays, "", friday_evening)
    assert next_open(weekdays, "", friday_evening) == _at(2026, 6, 15, 8)  # Monday 09:00 BST
    weekends = _hours(_window("10:00", "16:00", ["sat", "sun"]), timezone=LONDON)
    wednesday = _at(2026, 6, 10, 12)
    assert not is_open(weekends, "", wednesday)
    saturday = next_open(weekends, "", wednesday)
    assert saturday == _at(2026, 6, 13, 9)
    assert next_close(weekends, "", saturday) == _at(2026, 6, 13, 15)
    assert next_open(weekends, "", _at(2026, 6, 13, 15)) == _at(2026, 6, 14, 9)


def test_split_windows_close_for_lunch() -> None:
    hours = _hours(_window("09:00", "12:00", WEEKDAYS), _window("13:00", "17:00", WEEKDAYS))
    # Wednesday 2026-06-10 in New York (EDT, UTC-4).
    assert next_close(hours, NEW_YORK, _at(2026, 6, 10, 14)) == _at(2026, 6, 10, 16)
    assert not is_open(hours, NEW_YORK, _at(2026, 6, 10, 16, 30))
    assert next_open(hours, NEW_YORK, _at(2026, 6, 10, 16, 30)) == _at(2026, 6, 10, 17)
    assert next_close(hours, NEW_YORK, _at(2026, 6, 10, 17, 30)) == _at(2026, 6, 10, 21)
    assert next_open(hours, NEW_YORK, _at(2026, 6, 10, 21, 30)) == _at(2026, 6, 11, 13)


def test_window_to_24_00_joins_the_next_days_window() -> None:
    hours = _hours(_window("20:00", "24:00", ["mon"]), _window("00:00", "02:00", ["tue"]))
    monday_late = datetime(2026, 6, 8, 23, 59, tzinfo=timezone(timedelta(hours=1)))
    assert is_open(hours, LONDON, monday_late)
    assert next_close(hours, LONDON, monday_late) == _at(2026, 6, 9, 1)  # 02:00 BST
    assert not is_open(hours, LONDON, _at(2026, 6, 9, 1))


def test_always_open_never_closes_within_the_horizon() -> None:
    hours = _hours(_window("00:00", "24:00"))
    moment = _at(2026, 3, 8, 6, 59)
    assert is_open(hours, NEW_YORK, moment)
    assert next_open(hours, NEW_YORK, moment) == moment
    assert next_close(hours, NEW_YORK, moment) is None


def test_closed_now_next_close_is_now() -> None:
    moment = _at(2026, 6, 10, 3)
    assert next_close(NINE_TO_EIGHT, LONDON, moment) == moment


def test_fixed_timezone_ignores_the_contacts_key() -> None:
    hours = _hours(_window("09:00", "17:00"), timezone=LONDON)
    assert zones_for_key(hours, "Asia/Tokyo") == (LONDON,)
    assert zones_for_key(hours, "") == (LONDON,)
    assert is_open(hours, "Asia/Tokyo", _at(2026, 1, 5, 9))
    assert not is_open(hours, "Asia/Tokyo", _at(2026, 1, 5, 1))


def test_unknown_contact_zone_uses_the_fallback() -> None:
    assert zones_for_key(NINE_TO_EIGHT, "") == ("UTC",)
    assert zones_for_key(NINE_TO_EIGHT, IDAHO_KEY) == ("America/Boise", "America/Los_Angeles")
    hours = _hours(_window("09:00", "20:00"), fallback=KOLKATA)
    assert zones_for_key(hours, "") == (KOLKATA,)
    assert next_open(hours, "", _at(2026, 6, 10)) == datetime(2026, 6, 10, 3, 30, tzinfo=UTC)
    assert next_open(NINE_TO_EIGHT, "", _at(2026, 6, 10)) == _at(2026, 6, 10, 9)


def test_several_zones_open_only_where_all_windows_overlap() -> None:
    # 2026-06-10: Boise is UTC-6 (open 15:00-02:00 UTC), Los Angeles UTC-7 (16:00-03:00).
    morning = _at(2026, 6, 10, 12)
    assert next_open(NINE_TO_EIGHT, "America/Boise", morning) == _at(2026, 6, 10, 15)
    assert next_open(NINE_TO_EIGHT, "America/Los_Angeles", morning) == _at(2026, 6, 10, 16)
    assert next_open(NINE_TO_EIGHT, IDAHO_KEY, morning) == _at(2026, 6, 10, 16)
    assert not is_open(NINE_TO_EIGHT, IDAHO_KEY, _at(2026, 6, 10, 15, 30))
    assert next_close(NINE_TO_EIGHT, IDAHO_KEY, _at(2026, 6, 10, 17)) == _at(2026, 6, 11, 2)
    assert next_close(NINE_TO_EIGHT, "America/Los_Angeles", _at(2026, 6, 10, 17)) == _at(
        2026, 6, 11, 3
    )
    eastern_central = "America/Chicago,America/New_York"
    assert next_open(NINE_TO_EIGHT, eastern_central, morning) == _at(2026, 6, 10, 14)
    assert next_close(NINE_TO_EIGHT, eastern_central, _at(2026, 6, 10, 14)) == _at(2026, 6, 11)


def test_zones_that_never_overlap_never_open() -> None:
    hours = _hours(_window("09:00", "12:00"))
    key = "America/New_York,Asia/Tokyo"
    start = _at(2026, 6, 10)
    assert next_open(hours, key, start) is None
    assert not any(is_open(hours, key, start + timedelta(minutes=30 * i)) for i in range(48))
    assert next_close(hours, key, start) == start


def test_opening_beyond_the_horizon_is_none() -> None:
    # New York is 4 hours behind London only between their DST starts (2026-03-08 and
    # 03-29): the one time a 09:00-14:00 window is open in both (13:00-14:00 UTC).
    hours = _hours(_window("09:00", "14:00"))
    key = "America/New_York,Europe/London"
    first = _at(2026, 3, 8, 13)
    assert next_open(hours, key, _at(2026, 3, 1)) == first
    assert next_open(hours, key, first - HORIZON) == first
    assert next_open(hours, key, first - HORIZON - timedelta(seconds=1)) is None
    assert next_close(hours, key, first) == _at(2026, 3, 8, 14)
    assert next_open(hours, key, _at(2026, 3, 29)) is None


def test_times_must_be_aware_and_results_are_utc() -> None:
    with pytest.raises(ValueError, match="aware"):
        is_open(NINE_TO_EIGHT, LONDON, datetime(2026, 6, 10, 12))
    with pytest.raises(ValueError, match="aware"):
        next_open(NINE_TO_EIGHT, LONDON, datetime(2026, 6, 10, 12))
    tokyo_noon = datetime(2026, 6, 10, 12, tzinfo=timezone(timedelta(hours=9)))
    opening = next_open(NINE_TO_EIGHT, LONDON, tokyo_noon)
    assert opening == _at(2026, 6, 10, 8)
    assert opening is not None
    assert opening.tzinfo is UTC


POLICIES = [
    DEFAULT_CALLING_HOURS,
    _hours(_window("09:00", "12:00", WEEKDAYS), _window("13:00", "17:00", WEEKDAYS)),
    _hours(_window("01:30", "02:45", ["sat", "sun"]), _window("00:00", "01:00", ["sun"])),
    _hours(_window("02:30", "02:45"), timezone=SYDNEY),
    _hours(_window("20:00", "24:00", ["fri"]), _window("00:00", "03:00", ["sat"])),
]
KEYS = ["", NEW_YORK, LONDON, SYDNEY, KOLKATA, IDAHO_KEY, "America/New_York,Europe/London"]
TRANSITIONS = [
    _at(2026, 3, 8, 7),
    _at(2026, 11, 1, 6),
    _at(2026, 3, 29, 1),
    _at(2026, 10, 25, 1),
    _at(2026, 4, 4, 16),
    _at(2026, 10, 3, 16),
]
INSTANTS = st.one_of(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
    st.builds(
        lambda moment, seconds: moment + timedelta(seconds=seconds),
        st.sampled_from(TRANSITIONS),
        st.integers(min_value=-3 * 86_400, max_value=3 * 86_400),
    ),
)


@given(st.sampled_from(POLICIES), st.sampled_from(KEYS), INSTANTS)
def test_next_open_and_next_close_agree_with_is_open(
    hours: CallingHoursIn, key: str, moment: datetime
) -> None:
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
