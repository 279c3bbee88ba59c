"""Holiday date rules become the right dates in every year, observed days included."""

from __future__ import annotations

from datetime import date

import pytest

from orchestrator.scheduling.calling_hours.holiday_dates import (
    DateRule,
    HolidayCalendar,
    easter_sunday,
    nth_weekday,
)
from orchestrator.scheduling.calling_hours.state_rules import us_rules

THANKSGIVING = DateRule("Thanksgiving Day", month=11, weekday="thu", nth=4)
MEMORIAL_DAY = DateRule("Memorial Day", month=5, weekday="mon", nth=-1)
ELECTION_DAY = DateRule("Election Day", month=11, weekday="mon", nth=1, shift=1)
CHRISTMAS = DateRule("Christmas", month=12, day=25, observed=(("sat", (-1,)), ("sun", (1,))))


def _calendar(*rules: DateRule) -> HolidayCalendar:
    return HolidayCalendar("test-" + "-".join(rule.name for rule in rules), rules)


def _state_dates(state: str, year: int) -> frozenset[date]:
    holidays = us_rules().states[state].holidays
    assert holidays is not None
    return holidays.dates_of_year(year)


@pytest.mark.parametrize(
    ("year", "thanksgiving", "memorial_day", "election_day"),
    [
        (2024, date(2024, 11, 28), date(2024, 5, 27), date(2024, 11, 5)),
        (2025, date(2025, 11, 27), date(2025, 5, 26), date(2025, 11, 4)),
        (2026, date(2026, 11, 26), date(2026, 5, 25), date(2026, 11, 3)),
        (2027, date(2027, 11, 25), date(2027, 5, 31), date(2027, 11, 2)),
        (2028, date(2028, 11, 23), date(2028, 5, 29), date(2028, 11, 7)),
    ],
)
def test_weekday_rules_across_years(
    year: int, thanksgiving: date, memorial_day: date, election_day: date
) -> None:
    assert list(THANKSGIVING.dates(year)) == [thanksgiving]
    assert list(MEMORIAL_DAY.dates(year)) == [memorial_day]
    assert list(ELECTION_DAY.dates(year)) == [election_day]


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter_and_the_days_counted_from_it(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter
    good_friday = DateRule("Good Friday", easter=-2)
    assert list(good_friday.dates(year)) == [date.fromordinal(easter.toordinal() - 2)]


def test_a_weekend_holiday_closes_its_observed_day_too() -> None:
    # 2027: Saturday, observed on Friday 24th; 2022: Sunday, observed Monday 26th; 2026: Friday.
    assert set(CHRISTMAS.dates(2027)) == {date(2027, 12, 25), date(2027, 12, 24)}
    assert set(CHRISTMAS.dates(2022)) == {date(2022, 12, 25), date(2022, 12, 26)}
    assert set(CHRISTMAS.dates(2026)) == {date(2026, 12, 25)}


def test_an_observed_day_may_fall_in_the_year_before() -> None:
    new_year = DateRule("New Year's Day", month=1, day=1, observed=(("sat", (-1,)),))
    holidays = _calendar(new_year)
    assert holidays.closes(date(2027, 12, 31))  # 2028-01-01 is a Saturday
    assert holidays.closes(date(2028, 1, 1))
    assert not holidays.closes(date(2026, 12, 31))  # 2027-01-01 is a Friday


def test_even_years_only() -> None:
    rule = DateRule("Election Day", month=11, weekday="mon", nth=1, shift=1, even_years_only=True)
    assert list(rule.dates(2026)) == [date(2026, 11, 3)]
    assert list(rule.dates(2027)) == []


def test_nth_weekday_refuses_a_fifth_that_is_not_there() -> None:
    assert nth_weekday(2026, 3, "mon", 5) == date(2026, 3, 30)
    with pytest.raises(ValueError, match="no mon number 5"):
        nth_weekday(2026, 2, "mon", 5)


def test_alabama_closes_christmas_and_its_observed_friday_and_new_years_eve_2027() -> None:
    dates = _state_dates("AL", 2027)
    assert {date(2027, 12, 24), date(2027, 12, 25), date(2027, 12, 31)} <= dates
    assert date(2027, 11, 25) in dates  # Thanksgiving
    assert date(2027, 4, 26) in dates  # Confederate Memorial Day: 4th Monday of April
    assert date(2027, 12, 23) not in dates


def test_rhode_island_moves_weekend_holidays_to_monday_and_keeps_the_federal_friday() -> None:
    dates = _state_dates("RI", 2027)
    # Christmas 2027 is a Saturday: the federal Friday, the day and the state's Monday.
    assert {date(2027, 12, 24), date(2027, 12, 25), date(2027, 12, 27)} <= dates
    assert date(2027, 7, 5) in dates  # Independence Day on a Sunday
    assert date(2027, 11, 2) not in dates  # no election of state officers in odd years
    assert date(2026, 11, 3) in _state_dates("RI", 2026)


def test_utah_moves_juneteenth_to_a_monday() -> None:
    assert {date(2026, 6, 15), date(2026, 6, 19)} <= _state_dates("UT", 2026)  # a Friday
    assert {date(2027, 6, 19), date(2027, 6, 21)} <= _state_dates("UT", 2027)  # a Saturday
    assert date(2027, 7, 24) in _state_dates("UT", 2027)  # Pioneer Day


@pytest.mark.parametrize("year", range(2020, 2041))
def test_every_state_calendar_yields_dates_in_every_year(year: int) -> None:
    for state in us_rules().states.values():
        if state.holidays is not None:
            dates = state.holidays.dates_of_year(year)
            assert len(dates) >= len(state.holidays.rules) // 2, (state.code, year)
            assert all(day.year == year for day in dates)
