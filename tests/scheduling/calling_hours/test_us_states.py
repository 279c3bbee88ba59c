"""A number's US state, from its area code, and the zones of each state."""

from __future__ import annotations

import sys

import pytest

from orchestrator.scheduling.calling_hours.us_states import (
    STATE_CODES,
    area_code_states,
    state_of_area_code,
    state_zones,
    states_in_zones,
)


def _geocoder_states() -> dict[str, str]:
    """The same map through phonenumbers' own loader (every part, every language)."""
    from phonenumbers.geodata import GEOCODE_DATA

    states = {}
    by_exchange: dict[str, set[str | None]] = {}
    for prefix, text in GEOCODE_DATA.items():
        if len(prefix) >= 4 and prefix[0] == "1" and "en" in text:
            name = text["en"]
            code = {"Washington State": "WA", "Washington D.C.": "DC"}.get(name) or _code_of(name)
            if len(prefix) > 4:
                by_exchange.setdefault(prefix[1:4], set()).add(code)
            elif code is not None:
                states[prefix[1:]] = code
    for area_code, codes in by_exchange.items():
        agreed = codes.pop() if len(codes) == 1 else None
        if area_code not in states and agreed is not None:
            states[area_code] = agreed
    return states


def _code_of(name: str) -> str | None:
    from orchestrator.scheduling.calling_hours.us_states import STATE_NAMES

    tail = name.rpartition(", ")[2]
    return STATE_NAMES.get(name) or (tail if tail in STATE_CODES else None)


def test_area_codes_read_from_the_geodata_parts_equal_phonenumbers_own_loading() -> None:
    before = set(sys.modules)
    area_code_states.cache_clear()
    mine = area_code_states()
    # The parts were read without registering them (or loading the whole package).
    assert not {name for name in set(sys.modules) - before if "geodata" in name}
    assert mine == _geocoder_states()
    assert len(mine) > 300
    assert set(mine.values()) == STATE_CODES


@pytest.mark.parametrize(
    ("area_code", "state"),
    [
        ("305", "FL"),  # Miami
        ("850", "FL"),  # the Panhandle, partly on Central time
        ("405", "OK"),
        ("410", "MD"),
        ("512", "TX"),
        ("206", "WA"),
        ("212", "NY"),  # "New York, NY"
        ("210", "TX"),  # "San Antonio, TX"
        ("202", "DC"),
        # Described only exchange by exchange: the state all their exchanges agree on.
        ("203", "CT"),
        ("310", "CA"),
        ("713", "TX"),
        ("718", "NY"),
        ("416", None),  # Toronto
        ("787", None),  # Puerto Rico
        ("800", None),  # toll-free
        ("999", None),
    ],
)
def test_state_of_area_code(area_code: str, state: str | None) -> None:
    assert state_of_area_code(1, area_code + "5550123") == state


def test_only_the_nanp_has_area_codes() -> None:
    assert state_of_area_code(44, "3055550123") is None


def test_each_state_spans_the_zones_of_its_area_codes() -> None:
    zones = state_zones()
    assert zones["FL"] == {"America/New_York", "America/Chicago"}
    assert zones["HI"] == {"Pacific/Honolulu"}
    assert "America/Phoenix" in zones["AZ"]
    assert set(zones) == STATE_CODES


def test_states_in_zones() -> None:
    assert states_in_zones(("America/Phoenix",)) == {"AZ"}
    assert {"FL", "NY", "RI", "MD", "PA"} <= states_in_zones(("America/New_York",))
    assert "TX" not in states_in_zones(("America/New_York",))
    assert states_in_zones(("Europe/London",)) == frozenset()
    assert states_in_zones(()) == STATE_CODES
