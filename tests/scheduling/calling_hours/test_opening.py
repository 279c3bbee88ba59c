"""Opening times: whether a key is open, and when it next opens or closes, across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.scheduling.calling_hours.opening import (
    HORIZON,
    is_open,
    next_close,
    next_open,
    zones_for_key,
)
from orchestrator.scheduling.calling_hours.schemas import DEFAULT_CALLING_HOURS, CallingHoursIn
from tests.factories import calling_hours, calling_window
from tests.support.openings import check_openings_agree

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
SYDNEY = "Australia/Sydney"
KOLKATA = "Asia/Kolkata"
IDAHO_KEY = "America/Boise,America/Los_Angeles"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def _at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


NINE_TO_EIGHT = calling_hours(calling_window("09:00", "20:00"))


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
    hours = calling_hours(calling_window("02:30", "04:00"))
    # New York skips 02:00-03:00 on 2026-03-08: 07:00 UTC is 03:00 EDT.
    assert next_open(hours, NEW_YORK, _at(2026, 3, 8, 5)) == _at(2026, 3, 8, 7)
    assert not is_open(hours, NEW_YORK, _at(2026, 3, 8, 6, 59))
    assert next_close(hours, NEW_YORK, _at(2026, 3, 8, 7)) == _at(2026, 3, 8, 8)
    # A window wholly inside the skipped hour has no local time to be open in that day.
    skipped = calling_hours(calling_window("02:15", "02:45"))
    assert next_open(skipped, NEW_YORK, _at(2026, 3, 8, 5)) == _at(2026, 3, 9, 6, 15)
    # London skips 01:00-02:00 on 2026-03-29; Sydney skips 02:00-03:00 on 2026-10-04.
    late_night = calling_hours(calling_window("01:30", "03:00"))
    assert next_open(late_night, LONDON, _at(2026, 3, 28, 23)) == _at(2026, 3, 29, 1)
    assert next_open(hours, SYDNEY, _at(2026, 10, 3, 12)) == _at(2026, 10, 3, 16)


def test_repeated_hour_opens_at_its_first_occurrence_and_again_at_its_second() -> None:
    # New York repeats 01:00-02:00 on 2026-11-01: first as EDT (05:00 UTC), then EST (06:00).
    hours = calling_hours(calling_window("01:30", "01:45"))
    opening = next_open(hours, NEW_YORK, _at(2026, 11, 1, 4))
    assert opening == _at(2026, 11, 1, 5, 30)
    assert next_close(hours, NEW_YORK, opening) == _at(2026, 11, 1, 5, 45)
    assert next_open(hours, NEW_YORK, _at(2026, 11, 1, 5, 50)) == _at(2026, 11, 1, 6, 30)
    assert next_close(hours, NEW_YORK, _at(2026, 11, 1, 6, 31)) == _at(2026, 11, 1, 6, 45)
    # London repeats 01:00-02:00 on 2026-10-25: 00:00 and 01:00 UTC.
    assert next_open(hours, LONDON, _at(2026, 10, 24, 23)) == _at(2026, 10, 25, 0, 30)


def test_window_open_across_the_change_stays_one_stretch() -> None:
    hours = calling_hours(calling_window("00:30", "05:00"))
    # 00:30 EST is 05:30 UTC; 05:00 EDT is 09:00 UTC, one hour less of wall clock elapsed.
    assert next_close(hours, NEW_YORK, _at(2026, 3, 8, 5, 30)) == _at(2026, 3, 8, 9)


def test_weekday_only_and_weekend_only_windows_in_a_fixed_zone() -> None:
    weekdays = calling_hours(calling_window("09:00", "17:00", WEEKDAYS), timezone=LONDON)
    friday_evening = _at(2026, 6, 12, 16, 30)  # 17:30 BST
    assert not is_open(weekdays, "", friday_evening)
    assert next_open(weekdays, "", friday_evening) == _at(2026, 6, 15, 8)  # Monday 09:00 BST
    weekends = calling_hours(calling_window("10:00", "16:00", ["sat", "sun"]), timezone=LONDON)
    wednesday = _at(2026, 6, 10, 12)
    assert not is_open(weekends, "", wednesday)
    saturday = next_open(weekends, "", wednesday)
    assert saturday == _at(2026, 6, 13, 9)
    assert next_close(weekends, "", saturday) == _at(2026, 6, 13, 15)
    assert next_open(weekends, "", _at(2026, 6, 13, 15)) == _at(2026, 6, 14, 9)


def test_split_windows_close_for_lunch() -> None:
    hours = calling_hours(
        calling_window("09:00", "12:00", WEEKDAYS), calling_window("13:00", "17:00", WEEKDAYS)
    )
    # Wednesday 2026-06-10 in New York (EDT, UTC-4).
    assert next_close(hours, NEW_YORK, _at(2026, 6, 10, 14)) == _at(2026, 6, 10, 16)
    assert not is_open(hours, NEW_YORK, _at(2026, 6, 10, 16, 30))
    assert next_open(hours, NEW_YORK, _at(2026, 6, 10, 16, 30)) == _at(2026, 6, 10, 17)
    assert next_close(hours, NEW_YORK, _at(2026, 6, 10, 17, 30)) == _at(2026, 6, 10, 21)
    assert next_open(hours, NEW_YORK, _at(2026, 6, 10, 21, 30)) == _at(2026, 6, 11, 13)


def test_window_to_24_00_joins_the_next_days_window() -> None:
    hours = calling_hours(
        calling_window("20:00", "24:00", ["mon"]), calling_window("00:00", "02:00", ["tue"])
    )
    monday_late = datetime(2026, 6, 8, 23, 59, tzinfo=timezone(timedelta(hours=1)))
    assert is_open(hours, LONDON, monday_late)
    assert next_close(hours, LONDON, monday_late) == _at(2026, 6, 9, 1)  # 02:00 BST
    assert not is_open(hours, LONDON, _at(2026, 6, 9, 1))


def test_always_open_never_closes_within_the_horizon() -> None:
    hours = calling_hours(calling_window("00:00", "24:00"))
    moment = _at(2026, 3, 8, 6, 59)
    assert is_open(hours, NEW_YORK, moment)
    assert next_open(hours, NEW_YORK, moment) == moment
    assert next_close(hours, NEW_YORK, moment) is None


def test_closed_now_next_close_is_now() -> None:
    moment = _at(2026, 6, 10, 3)
    assert next_close(NINE_TO_EIGHT, LONDON, moment) == moment


def test_fixed_timezone_ignores_the_contacts_key() -> None:
    hours = calling_hours(calling_window("09:00", "17:00"), timezone=LONDON)
    assert zones_for_key(hours, "Asia/Tokyo") == (LONDON,)
    assert zones_for_key(hours, "") == (LONDON,)
    assert is_open(hours, "Asia/Tokyo", _at(2026, 1, 5, 9))
    assert not is_open(hours, "Asia/Tokyo", _at(2026, 1, 5, 1))


def test_unknown_contact_zone_uses_the_fallback() -> None:
    assert zones_for_key(NINE_TO_EIGHT, "") == ("UTC",)
    assert zones_for_key(NINE_TO_EIGHT, IDAHO_KEY) == ("America/Boise", "America/Los_Angeles")
    hours = calling_hours(calling_window("09:00", "20:00"), fallback=KOLKATA)
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
    hours = calling_hours(calling_window("09:00", "12:00"))
    key = "America/New_York,Asia/Tokyo"
    start = _at(2026, 6, 10)
    assert next_open(hours, key, start) is None
    assert not any(is_open(hours, key, start + timedelta(minutes=30 * i)) for i in range(48))
    assert next_close(hours, key, start) == start


def test_opening_beyond_the_horizon_is_none() -> None:
    # New York is 4 hours behind London only between their DST starts (2026-03-08 and
    # 03-29): the one time a 09:00-14:00 window is open in both (13:00-14:00 UTC).
    hours = calling_hours(calling_window("09:00", "14:00"))
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
    calling_hours(
        calling_window("09:00", "12:00", WEEKDAYS), calling_window("13:00", "17:00", WEEKDAYS)
    ),
    calling_hours(
        calling_window("01:30", "02:45", ["sat", "sun"]), calling_window("00:00", "01:00", ["sun"])
    ),
    calling_hours(calling_window("02:30", "02:45"), timezone=SYDNEY),
    calling_hours(
        calling_window("20:00", "24:00", ["fri"]), calling_window("00:00", "03:00", ["sat"])
    ),
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
    check_openings_agree(hours, key, moment)
