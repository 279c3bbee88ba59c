"""The ``us-tcpa`` profile's rules, read from ``us_state_rules.toml`` shipped in this package.

The file is the single place the rules live (with the citation and sources of each); this
module only turns it into values, once, and refuses a file it cannot read exactly.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from orchestrator.scheduling.calling_hours.conditions import Span
from orchestrator.scheduling.calling_hours.holiday_dates import DateRule, HolidayCalendar, Shifts
from orchestrator.scheduling.calling_hours.schemas import DAYS, CallingWindowIn

RULES_FILE = "us_state_rules.toml"


@dataclass(frozen=True)
class SubjectCap:
    """At most ``max_attempts`` attempts to one person on one subject within ``period_seconds``."""

    max_attempts: int
    period_seconds: int


@dataclass(frozen=True)
class ZonedSpans:
    """Windows read in a fixed zone (a law naming "Central Standard Time")."""

    zone: str
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class StateRule:
    code: str
    name: str
    citation: str
    sources: tuple[str, ...]
    spans: tuple[Span, ...]
    zoned: tuple[ZonedSpans, ...]
    holidays: HolidayCalendar | None
    subject_caps: tuple[SubjectCap, ...]


@dataclass(frozen=True)
class RuleBook:
    floor: tuple[Span, ...]
    states: Mapping[str, StateRule]


@lru_cache(maxsize=1)
def us_rules() -> RuleBook:
    raw = tomllib.loads((files(__package__) / RULES_FILE).read_text(encoding="utf-8"))
    return RuleBook(
        floor=_spans(raw["profile"]["windows"]),
        states={code: _state(code, entry) for code, entry in raw["states"].items()},
    )


def _spans(windows: list[dict[str, Any]]) -> tuple[Span, ...]:
    # Validated as a campaign's windows are, so a slip in the file fails loudly at load.
    parsed = [
        CallingWindowIn.model_validate({k: v for k, v in w.items() if k != "timezone"})
        for w in windows
    ]
    return tuple(Span(frozenset(w.days), w.start_minute, w.end_minute) for w in parsed)


def _state(code: str, entry: dict[str, Any]) -> StateRule:
    zoned: dict[str, list[dict[str, Any]]] = {}
    for window in entry.get("zoned_windows", []):
        zoned.setdefault(window["timezone"], []).append(window)
    holidays = entry.get("holidays")
    return StateRule(
        code=code,
        name=entry["name"],
        citation=entry["citation"],
        sources=tuple(entry["sources"]),
        spans=_spans(entry["windows"]),
        zoned=tuple(ZonedSpans(zone, _spans(windows)) for zone, windows in zoned.items()),
        holidays=None if holidays is None else _calendar(code, holidays),
        subject_caps=tuple(SubjectCap(**cap) for cap in entry.get("subject_caps", [])),
    )


def _calendar(code: str, entry: dict[str, Any]) -> HolidayCalendar:
    default = _shifts(entry.get("observed", {}))
    return HolidayCalendar(code, tuple(_date_rule(date, default) for date in entry["dates"]))


def _date_rule(entry: dict[str, Any], default: Shifts) -> DateRule:
    fixed = "day" in entry
    rule = DateRule(
        name=entry["name"],
        month=entry.get("month"),
        day=entry.get("day"),
        weekday=entry.get("weekday"),
        nth=entry.get("nth"),
        shift=entry.get("shift", 0),
        easter=entry.get("easter"),
        # Moving a weekend holiday is a rule about fixed dates; Monday holidays never move.
        observed=_shifts(entry["observed"]) if "observed" in entry else default if fixed else (),
        even_years_only=entry.get("years") == "even",
    )
    rule.dates(2000)  # a rule that names no date fails here, not at dispatch
    return rule


def _shifts(observed: Mapping[str, int | list[int]]) -> Shifts:
    unknown = set(observed) - set(DAYS)
    if unknown:
        raise ValueError(f"observed names no weekday: {sorted(unknown)}")
    return tuple(
        (day, tuple(days) if isinstance(days, list) else (days,))
        for day, days in sorted(observed.items())
    )
