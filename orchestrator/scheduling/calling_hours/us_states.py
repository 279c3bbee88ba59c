"""The US state of a number, from its area code, and the zones each state's area codes span.

phonenumbers' English geocoding data describes each US area code (prefix ``1NPA``) by its
state ("Florida", "Washington State", "New York, NY"). Its geodata package loads ~290,000
prefixes in every language (~100 MB, half a second), so only the parts holding ``1...``
prefixes are executed, once, outside the package, and reduced to area code -> state code.
"""

from __future__ import annotations

import importlib.util
import itertools
from functools import lru_cache
from importlib.resources import files
from types import ModuleType

from phonenumbers.tzdata import TIMEZONE_DATA

NANP_COUNTRY_CODE = 1
# Area code (NPA) digits after the country code.
_NPA = slice(1, 4)

STATE_NAMES: dict[str, str] = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "Washington State": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    "Washington D.C.": "DC",
}  # fmt: skip
STATE_CODES = frozenset(STATE_NAMES.values())


def state_of_area_code(country_code: int, national_number: str) -> str | None:
    """The US state (USPS code) of a NANP number's area code; None outside the US states
    (Canada, the Caribbean, territories) and for non-geographic codes (800, 500...)."""
    if country_code != NANP_COUNTRY_CODE:
        return None
    return area_code_states().get(national_number[:3])


@lru_cache(maxsize=1)
def area_code_states() -> dict[str, str]:
    """Area code -> state code, for every US area code phonenumbers places in a state.

    Most area codes have a description of their own (``1NPA``); some (203, 310, 713, 718...)
    are described only exchange by exchange (``1NPANXX``): those take the state all their
    exchanges agree on."""
    states: dict[str, str] = {}
    by_exchange: dict[str, set[str | None]] = {}
    for prefix, name in _nanp_area_names().items():
        code = _state_code(name)
        if len(prefix) > len("1NPA"):
            by_exchange.setdefault(prefix[_NPA], set()).add(code)
        elif code is not None:
            states[prefix[_NPA]] = code
    for area_code, codes in by_exchange.items():
        agreed = codes.pop() if len(codes) == 1 else None
        if area_code not in states and agreed is not None:
            states[area_code] = agreed
    return states


@lru_cache(maxsize=1)
def state_zones() -> dict[str, frozenset[str]]:
    """The zones phonenumbers gives numbers of each state's area codes."""
    zones: dict[str, set[str]] = {}
    states = area_code_states()
    for prefix, names in TIMEZONE_DATA.items():
        state = states.get(prefix[_NPA]) if prefix[:1] == "1" and len(prefix) >= 4 else None
        if state is not None:
            zones.setdefault(state, set()).update(names)
    return {state: frozenset(names) for state, names in zones.items()}


def states_in_zones(zones: tuple[str, ...]) -> frozenset[str]:
    """The states some of whose area codes lie in one of ``zones``; every state for none."""
    if not zones:
        return frozenset(state_zones())
    return frozenset(state for state, held in state_zones().items() if held.intersection(zones))


def _state_code(name: str) -> str | None:
    if name in STATE_NAMES:
        return STATE_NAMES[name]
    # City-level descriptions end in the state's code: "San Antonio, TX".
    _, _, suffix = name.rpartition(", ")
    return suffix if suffix in STATE_CODES else None


def _nanp_area_names() -> dict[str, str]:
    """``1NPA...`` -> English description, read from the geodata parts that hold ``1...``."""
    names: dict[str, str] = {}
    for index in itertools.count():
        data: dict[str, dict[str, str]] = _geodata_part(index).data
        names.update(
            (prefix, text["en"])
            for prefix, text in data.items()
            if len(prefix) >= 4 and prefix[0] == "1" and "en" in text
        )
        # Parts hold sorted prefixes: one reaching past "1..." holds the last of them.
        if any(prefix[0] != "1" for prefix in data):
            break
    return names


def _geodata_part(index: int) -> ModuleType:
    """``phonenumbers.geodata.data<index>``, executed without its package's ``__init__`` (which
    would load every part). The module is not registered, so it is freed once read."""
    name = f"phonenumbers.geodata.data{index}"
    path = files("phonenumbers") / "geodata" / f"data{index}.py"
    spec = importlib.util.spec_from_file_location(name, str(path))
    if spec is None or spec.loader is None:
        raise LookupError(f"phonenumbers has no {name}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
