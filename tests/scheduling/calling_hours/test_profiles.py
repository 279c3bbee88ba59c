"""The us-tcpa profile: 08:00-21:00 local, the number's state rules, holidays, and windows that
only narrow it; each judged at instants a test sets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.scheduling.calling_hours.opening import is_open, next_close, next_open
from orchestrator.scheduling.calling_hours.profiles import (
    applicable_states,
    profile_zones,
    subject_caps,
)
from orchestrator.scheduling.calling_hours.schemas import (
    US_TCPA,
    CallingHoursIn,
    profile_hours,
)
from orchestrator.scheduling.calling_hours.state_rules import SubjectCap
from orchestrator.scheduling.calling_hours.zone_key import contact_zone_key
from tests.factories import calling_hours, calling_window
from tests.support.openings import check_openings_agree

TCPA = profile_hours(US_TCPA)
FLORIDA = contact_zone_key(number="+13055550123", customer_timezone=None)
TEXAS = contact_zone_key(number="+15125550123", customer_timezone=None)
NEW_YORK = contact_zone_key(number="+12125550123", customer_timezone=None)
ALABAMA = contact_zone_key(number="+12055550123", customer_timezone=None)
MISSISSIPPI = contact_zone_key(number="+16015550123", customer_timezone=None)
UTAH = contact_zone_key(number="+18015550123", customer_timezone=None)
DAILY_CAP = SubjectCap(max_attempts=3, period_seconds=86_400)


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware instant given as wall-clock time in ``zone`` (what the recipient sees)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def test_keys_of_the_numbers_used_here() -> None:
    assert FLORIDA == "America/New_York|FL"
    assert TEXAS == "America/Chicago|TX"
    assert ALABAMA == "America/Chicago|AL"
    assert MISSISSIPPI == "America/Chicago|MS"
    assert UTAH == "America/Denver|UT"


def test_florida_closes_at_eight_in_the_evening() -> None:
    eastern = "America/New_York"
    assert is_open(TCPA, FLORIDA, local(eastern, 2026, 6, 10, 19, 59))
    assert not is_open(TCPA, FLORIDA, local(eastern, 2026, 6, 10, 20, 30))
    assert not is_open(TCPA, FLORIDA, local(eastern, 2026, 6, 10, 20, 0))
    assert next_close(TCPA, FLORIDA, local(eastern, 2026, 6, 10, 10)) == local(
        eastern, 2026, 6, 10, 20
    )
    assert next_open(TCPA, FLORIDA, local(eastern, 2026, 6, 10, 20, 30)) == local(
        eastern, 2026, 6, 11, 8
    )
    # New York keeps the federal 21:00.
    assert is_open(TCPA, NEW_YORK, local(eastern, 2026, 6, 10, 20, 30))


def test_texas_waits_for_noon_on_sunday_and_nine_on_other_days() -> None:
    central = "America/Chicago"
    sunday, saturday = (2026, 6, 14), (2026, 6, 13)
    assert not is_open(TCPA, TEXAS, local(central, *sunday, 10))
    assert not is_open(TCPA, TEXAS, local(central, *sunday, 11, 59))
    assert is_open(TCPA, TEXAS, local(central, *sunday, 12))
    assert next_open(TCPA, TEXAS, local(central, *sunday, 10)) == local(central, *sunday, 12)
    assert not is_open(TCPA, TEXAS, local(central, *saturday, 8, 59))
    assert is_open(TCPA, TEXAS, local(central, *saturday, 9))
    assert not is_open(TCPA, TEXAS, local(central, *saturday, 21))


US_ZONES = {
    "Eastern": ("+12125550123", None),
    "Central": ("+13125550123", None),
    "Mountain": ("+13035550123", None),
    "Arizona": ("+16025550123", None),
    "Pacific": ("+12135550123", None),
    # Alaska's area code spans Adak too: the customer's own zone says Anchorage.
    "Alaska": ("+19075550123", "America/Anchorage"),
    "Hawaii": ("+18085550123", None),
}
ZONE_OF = {
    "Eastern": "America/New_York",
    "Central": "America/Chicago",
    "Mountain": "America/Denver",
    "Arizona": "America/Phoenix",
    "Pacific": "America/Los_Angeles",
    "Alaska": "America/Anchorage",
    "Hawaii": "Pacific/Honolulu",
}
# Around both US changes of 2026 and 2027: the days before, of and after each.
DST_DAYS = [
    changed + timedelta(days=offset)
    for changed in (date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14), date(2027, 11, 7))
    for offset in (-1, 0, 1)
]


@pytest.mark.parametrize("day", DST_DAYS)
@pytest.mark.parametrize("name", sorted(US_ZONES))
def test_every_us_zone_opens_at_eight_local_across_daylight_saving(name: str, day: date) -> None:
    number, own_zone = US_ZONES[name]
    key = contact_zone_key(number=number, customer_timezone=own_zone)
    zone = ZONE_OF[name]
    ymd = (day.year, day.month, day.day)
    assert not is_open(TCPA, key, local(zone, *ymd, 7, 59))
    assert is_open(TCPA, key, local(zone, *ymd, 8, 0))
    assert next_open(TCPA, key, local(zone, *ymd, 3)) == local(zone, *ymd, 8)
    assert is_open(TCPA, key, local(zone, *ymd, 20, 59))
    assert not is_open(TCPA, key, local(zone, *ymd, 21, 0))


def test_windows_narrow_the_profile_and_never_widen_it() -> None:
    wide = CallingHoursIn.model_validate(
        {"profile": US_TCPA, "windows": [calling_window("07:00", "22:00")]}
    )
    eastern = "America/New_York"
    assert not is_open(wide, NEW_YORK, local(eastern, 2026, 6, 10, 7, 30))
    assert not is_open(wide, NEW_YORK, local(eastern, 2026, 6, 10, 21, 30))
    assert is_open(wide, NEW_YORK, local(eastern, 2026, 6, 10, 8))
    narrow = CallingHoursIn.model_validate(
        {"profile": US_TCPA, "windows": [calling_window("10:00", "12:00")]}
    )
    assert not is_open(narrow, NEW_YORK, local(eastern, 2026, 6, 10, 9))
    assert is_open(narrow, NEW_YORK, local(eastern, 2026, 6, 10, 11))
    assert next_close(narrow, NEW_YORK, local(eastern, 2026, 6, 10, 11)) == local(
        eastern, 2026, 6, 10, 12
    )
    # Florida's 20:00 still closes windows that a fixed zone keeps open.
    london = calling_hours(calling_window("00:00", "24:00"), timezone="Europe/London")
    floored = london.model_copy(update={"profile": US_TCPA})
    assert is_open(london, FLORIDA, local(eastern, 2026, 6, 10, 20, 30))
    assert not is_open(floored, FLORIDA, local(eastern, 2026, 6, 10, 20, 30))


def test_holidays_close_the_whole_local_day_across_years() -> None:
    mountain = "America/Denver"
    for thanksgiving in ((2026, 11, 26), (2027, 11, 25), (2028, 11, 23)):
        assert not is_open(TCPA, UTAH, local(mountain, *thanksgiving, 12))
        day_before = local(mountain, *thanksgiving, 12) - timedelta(days=1)
        assert is_open(TCPA, UTAH, day_before)
    # Christmas 2027 is a Saturday: Alabama observes it on Friday 24th, and Sunday is barred,
    # so a call due on Thursday evening waits for Monday morning.
    central = "America/Chicago"
    assert not is_open(TCPA, ALABAMA, local(central, 2027, 12, 24, 12))
    assert next_open(TCPA, ALABAMA, local(central, 2027, 12, 23, 20, 30)) == local(
        central, 2027, 12, 27, 8
    )
    # Texas has no holiday rule.
    assert is_open(TCPA, TEXAS, local(central, 2027, 12, 24, 12))


def test_mississippi_reads_central_standard_time_literally_as_well() -> None:
    central = "America/Chicago"
    # Summer: 08:30 CDT is 07:30 CST, too early; 09:00 CDT is 08:00 CST.
    assert not is_open(TCPA, MISSISSIPPI, local(central, 2026, 7, 15, 8, 30))
    assert is_open(TCPA, MISSISSIPPI, local(central, 2026, 7, 15, 9))
    assert not is_open(TCPA, MISSISSIPPI, local(central, 2026, 7, 15, 20))
    # Winter: local time is CST.
    assert is_open(TCPA, MISSISSIPPI, local(central, 2026, 1, 14, 8))
    assert not is_open(TCPA, MISSISSIPPI, local(central, 2026, 1, 18, 12))  # a Sunday


def test_a_key_without_its_state_gets_every_possible_state_at_once() -> None:
    eastern = "America/New_York"
    # Eastern area codes include Rhode Island (09:00-18:00 on weekdays, none on Sunday) and
    # Florida; the key alone cannot rule either out.
    assert not is_open(TCPA, eastern, local(eastern, 2026, 6, 8, 8, 30))
    assert is_open(TCPA, eastern, local(eastern, 2026, 6, 8, 9))
    assert not is_open(TCPA, eastern, local(eastern, 2026, 6, 8, 18))
    assert not is_open(TCPA, eastern, local(eastern, 2026, 6, 14, 12))
    assert {"FL", "RI", "MD"} <= {state.code for state in applicable_states(US_TCPA, eastern)}
    # Arizona's zone holds only Arizona: the federal hours.
    phoenix = "America/Phoenix"
    assert is_open(TCPA, phoenix, local(phoenix, 2026, 6, 14, 8))
    # A zone outside the US: the federal hours; nothing known: every state.
    assert applicable_states(US_TCPA, "Europe/London") == ()
    assert len(applicable_states(US_TCPA, "")) == 13
    toll_free = contact_zone_key(number="+18005550123", customer_timezone=None)
    assert len(applicable_states(US_TCPA, toll_free)) == 13


def test_subject_caps_of_the_number_s_state() -> None:
    assert subject_caps(TCPA, FLORIDA) == [DAILY_CAP]
    assert subject_caps(TCPA, contact_zone_key(number="+14055550123", customer_timezone=None)) == [
        DAILY_CAP
    ]
    assert subject_caps(TCPA, contact_zone_key(number="+14105550123", customer_timezone=None)) == [
        DAILY_CAP
    ]
    assert subject_caps(TCPA, TEXAS) == []
    assert subject_caps(TCPA, NEW_YORK) == []
    assert subject_caps(TCPA, "America/Chicago") == [DAILY_CAP]  # Oklahoma may be it
    assert subject_caps(TCPA, "") == [DAILY_CAP]
    assert subject_caps(TCPA, "America/Phoenix") == []
    assert subject_caps(calling_hours(calling_window("09:00", "17:00")), FLORIDA) == []
    assert subject_caps(None, FLORIDA) == []


PROFILED = [
    TCPA,
    CallingHoursIn.model_validate(
        {"profile": US_TCPA, "windows": [calling_window("07:00", "22:00")]}
    ),
    CallingHoursIn.model_validate(
        {"profile": US_TCPA, "windows": [calling_window("12:00", "13:00", ["sun", "mon"])]}
    ),
]
TOLL_FREE = contact_zone_key(number="+18005550123", customer_timezone=None)
KEYS = [
    FLORIDA,
    TEXAS,
    ALABAMA,
    MISSISSIPPI,
    UTAH,
    NEW_YORK,
    "America/New_York",
    "",
    "Asia/Tokyo",
    TOLL_FREE,
    "|FL",
    "Europe/London|FL",
]
INSTANTS = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2028, 1, 10),
    timezones=st.just(ZoneInfo("UTC")),
)


@given(st.sampled_from(PROFILED), st.sampled_from(KEYS), INSTANTS)
def test_next_open_and_next_close_agree_with_is_open(
    hours: CallingHoursIn, key: str, moment: datetime
) -> None:
    check_openings_agree(hours, key, moment)


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_recipient_known_nowhere_is_judged_in_every_us_zone_not_the_fallback() -> None:
    # 14:30 UTC is 06:30 in Los Angeles and 04:30 in Honolulu.
    assert not is_open(TCPA, "", _utc(2026, 6, 10, 14, 30))
    utc_fallback = TCPA.model_copy(update={"fallback_timezone": "UTC"})
    assert not is_open(utc_fallback, "", _utc(2026, 6, 10, 14, 30))
    assert profile_zones(US_TCPA, "") == profile_zones(US_TCPA, TOLL_FREE)
    assert "Pacific/Honolulu" in profile_zones(US_TCPA, "")
    # Plain windows still read an unknown recipient in the fallback zone.
    plain = calling_hours(calling_window("09:00", "17:00"))
    assert is_open(plain, "", _utc(2026, 6, 10, 14, 30))
    assert not is_open(plain, "", _utc(2026, 6, 10, 17))


def test_a_recipient_known_only_by_its_state_is_judged_in_the_state_s_zones() -> None:
    key = contact_zone_key(number="+13051110123", customer_timezone=None)
    assert key == "|FL"
    assert profile_zones(US_TCPA, key) == ("America/Chicago", "America/New_York")
    # 08:00 in the panhandle (Central) to 20:00 in Miami (Eastern).
    assert next_open(TCPA, key, _utc(2026, 6, 10, 3)) == _utc(2026, 6, 10, 13)
    assert next_close(TCPA, key, _utc(2026, 6, 10, 13)) == _utc(2026, 6, 11, 0)
    assert subject_caps(TCPA, key) == [DAILY_CAP]
    # Plain windows read it in Florida's zones too, not in the fallback zone.
    plain = calling_hours(calling_window("09:00", "17:00"))
    assert not is_open(plain, key, _utc(2026, 6, 10, 9))
    assert next_open(plain, key, _utc(2026, 6, 10, 9)) == _utc(2026, 6, 10, 14)


# The us-tcpa window of a non-geographic US number: 08:00 in Honolulu to Rhode Island's 18:00
# in Eastern time on weekdays (17:00 on Saturdays); closed on Sundays (Alabama, Louisiana,
# Mississippi, Rhode Island, Utah) and on every holiday of Alabama, Louisiana, Pennsylvania,
# Rhode Island and Utah.
NON_GEOGRAPHIC_WEEK = [
    # Summer (EDT, UTC-4): weekdays 18:00-22:00 UTC, i.e. 14:00-18:00 ET, 08:00-12:00 HST.
    (_utc(2026, 6, 8, 3), _utc(2026, 6, 8, 18), _utc(2026, 6, 8, 22)),  # Monday
    (_utc(2026, 6, 13, 3), _utc(2026, 6, 13, 18), _utc(2026, 6, 13, 21)),  # Saturday
    # Sunday 14th closed; Monday 15th is Utah's Juneteenth (Friday 19th moves to Monday).
    (_utc(2026, 6, 14, 3), _utc(2026, 6, 16, 18), _utc(2026, 6, 16, 22)),
    # Winter (EST, UTC-5): weekdays 18:00-23:00 UTC.
    (_utc(2027, 1, 13, 3), _utc(2027, 1, 13, 18), _utc(2027, 1, 13, 23)),  # Wednesday
]


@pytest.mark.parametrize(("after", "opening", "closing"), NON_GEOGRAPHIC_WEEK)
def test_a_non_geographic_number_gets_a_narrow_window_on_weekdays(
    after: datetime, opening: datetime, closing: datetime
) -> None:
    assert TOLL_FREE == "|*"
    assert next_open(TCPA, TOLL_FREE, after) == opening
    assert next_close(TCPA, TOLL_FREE, opening) == closing
    assert not is_open(TCPA, TOLL_FREE, opening - timedelta(minutes=1))
    assert not is_open(TCPA, TOLL_FREE, closing)
    assert len(applicable_states(US_TCPA, TOLL_FREE)) == 13


def test_a_non_geographic_number_is_closed_all_sunday() -> None:
    sunday = _utc(2026, 6, 14)
    assert not any(
        is_open(TCPA, TOLL_FREE, sunday + timedelta(minutes=minute))
        for minute in range(0, 24 * 60, 15)
    )


def test_a_non_geographic_number_with_its_customer_s_zone_gets_that_zone_s_states() -> None:
    eastern = "America/New_York"
    key = contact_zone_key(number="+18005550123", customer_timezone=eastern)
    assert key == eastern
    assert profile_zones(US_TCPA, key) == (eastern,)
    # Rhode Island may be it: 09:00-18:00 on weekdays, nothing on Sunday.
    assert next_open(TCPA, key, local(eastern, 2026, 6, 10, 7)) == local(eastern, 2026, 6, 10, 9)
    assert next_close(TCPA, key, local(eastern, 2026, 6, 10, 9)) == local(eastern, 2026, 6, 10, 18)
    hawaii = contact_zone_key(number="+18005550123", customer_timezone="Pacific/Honolulu")
    assert applicable_states(US_TCPA, hawaii) == ()
    assert is_open(TCPA, hawaii, local("Pacific/Honolulu", 2026, 6, 14, 8))


_NANP_NUMBERS = st.builds(
    lambda npa, rest: f"+1{npa}{rest}",
    st.integers(min_value=200, max_value=999),
    st.text("0123456789", min_size=4, max_size=9),
)
_OWN_ZONES = st.sampled_from(
    [None, "America/New_York", "America/Chicago", "Pacific/Honolulu", "Europe/London"]
)
ANY_KEY = st.one_of(
    st.sampled_from(KEYS),
    st.builds(
        lambda n, z: contact_zone_key(number=n, customer_timezone=z), _NANP_NUMBERS, _OWN_ZONES
    ),
)


def _inside_the_floor(key: str, moment: datetime) -> bool:
    local_times = [moment.astimezone(ZoneInfo(zone)) for zone in profile_zones(US_TCPA, key)]
    return bool(local_times) and all(8 <= at.hour < 21 for at in local_times)


@given(st.sampled_from(PROFILED), ANY_KEY, INSTANTS)
def test_no_key_ever_opens_outside_eight_to_nine_in_any_of_its_zones(
    hours: CallingHoursIn, key: str, moment: datetime
) -> None:
    if is_open(hours, key, moment):
        assert _inside_the_floor(key, moment)
    opening = next_open(hours, key, moment)
    if opening is not None:
        assert is_open(hours, key, opening)
        assert _inside_the_floor(key, opening)
        closing = next_close(hours, key, opening)
        if closing is not None:
            assert _inside_the_floor(key, closing - timedelta(microseconds=1))
