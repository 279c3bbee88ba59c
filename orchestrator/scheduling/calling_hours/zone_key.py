"""A contact's zone key: its own zone, else the zones of its number's region, else "";
then, for a number of a US state, ``|`` and the state's code: "America/New_York|FL".

The state comes from the number's area code whoever gives the zone, so the legal rules of the
number's state apply however its zone was set; a number phonenumbers places in no zone keeps
its state ("|FL"), and the state's zones stand for its own. A non-geographic US number (toll
free, premium rate, personal: valid in the US, no state) is "|*", somewhere in the 50 states
and DC: phonenumbers gives it every NANP zone, Guam to Newfoundland, which no one lives in at
once. Keys without ``|`` (a number outside the US states, or a contact created before states
were recorded) say nothing about the state.

phonenumbers takes ~20 µs a number (parse, then validation against every region sharing the
country code), too slow for every customer of a large create. Its answer for a number is
decided by regular expressions over the national number, by the number's length, and by a
longest-prefix lookup of at most TIMEZONE_LONGEST_PREFIX digits. For almost every country no
expression can tell apart two numbers that share that prefix and length (_settled_by_prefix
proves it from the metadata), so one phonenumbers answer serves the whole prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata, PhoneNumberDesc
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number
from phonenumbers.tzdata import TIMEZONE_LONGEST_PREFIX

from orchestrator.scheduling.calling_hours.pattern_depth import pattern_depth
from orchestrator.scheduling.calling_hours.us_states import (
    NANP_COUNTRY_CODE,
    state_of_area_code,
    state_zones,
)

STATE_SEPARATOR = "|"
# The state part of a key whose number is in some US state or DC, which one unknown.
ANY_STATE = "*"
_US = "US"
# What a US number with a state is; every other valid type has no place (toll free, 5XX...).
_GEOGRAPHIC_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_MAX_COUNTRY_CODE_DIGITS = 3
# Bounds memory in a long-lived worker; the rare refill costs one phonenumbers call a prefix.
_ZONE_KEY_CACHE_LIMIT = 100_000
_zone_keys: dict[tuple[str, int], str] = {}
# The state is a function of the area code, the first 4 digits with the country code: inside
# the TIMEZONE_LONGEST_PREFIX digits a cached key is shared by, so caching stays exact.
_AREA_CODE_DIGITS = 4
assert _AREA_CODE_DIGITS <= TIMEZONE_LONGEST_PREFIX


def key_zones(key: str) -> tuple[str, ...]:
    """The zones of a zone key (none for "")."""
    zones = key.partition(STATE_SEPARATOR)[0]
    return tuple(zones.split(",")) if zones else ()


def key_states(key: str) -> tuple[str, ...] | None:
    """The US states of a zone key (every state and DC for ``*``); None when it does not say."""
    _, separator, states = key.partition(STATE_SEPARATOR)
    if not separator or not states:
        return None
    if states == ANY_STATE:
        return tuple(sorted(state_zones()))
    return tuple(states.split(","))


def key_places(key: str) -> tuple[str, ...]:
    """Where a recipient with ``key`` may be: the key's zones, else its states' zones, else
    none (nothing known)."""
    zones = key_zones(key)
    if zones:
        return zones
    held = state_zones()
    return tuple(sorted({zone for state in key_states(key) or () for zone in held.get(state, ())}))


def contact_zone_key(*, number: str | None, customer_timezone: str | None) -> str:
    """The zone key stored on a contact: the customer's zone, else the number's zones, else "";
    with the number's US state after ``|`` when it has one."""
    if customer_timezone:
        return customer_timezone + _state_suffix(number)
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


def _key_of(number: phonenumbers.PhoneNumber, zones: tuple[str, ...]) -> str:
    state = _state_of(number)
    if state is None and _is_non_geographic_us(number):
        return STATE_SEPARATOR + ANY_STATE
    key = ",".join(sorted(zone for zone in zones if zone != UNKNOWN_TIMEZONE))
    # Without a zone the state still binds (a truncated number of a Florida area code is
    # presumed to reach Florida): "|FL".
    return key if state is None else f"{key}{STATE_SEPARATOR}{state}"


def _is_non_geographic_us(number: phonenumbers.PhoneNumber) -> bool:
    # A valid US number is the US region's (it has no leading digits to share), so its type
    # is read in the US metadata.
    return (
        number.country_code == NANP_COUNTRY_CODE
        and phonenumbers.is_valid_number_for_region(number, _US)
        and phonenumbers.number_type(number) not in _GEOGRAPHIC_TYPES
    )


def _state_suffix(number: str | None) -> str:
    # No other calling code starts with 1, so only "+1..." can be a number of a US state.
    if not number or not number.startswith("+1"):
        return ""
    if _E164.fullmatch(number) is not None:
        state = state_of_area_code(NANP_COUNTRY_CODE, number[2:])
    else:
        parsed = _parsed(number)
        state = _state_of(parsed) if parsed is not None else None
    return "" if state is None else STATE_SEPARATOR + state


def _parsed(number: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None


def _state_of(parsed: phonenumbers.PhoneNumber) -> str | None:
    if parsed.italian_leading_zero:
        return None  # "+1 0305...": no area code starts with 0
    return state_of_area_code(parsed.country_code or 0, str(parsed.national_number))


def _parsed_zone_key(number: str) -> str:
    """phonenumbers' own answer, from a full parse."""
    parsed = _parsed(number)
    if parsed is None:
        return ""
    return _key_of(parsed, time_zones_for_number(parsed))


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
    phone = _phone_number(country_code, national)
    return _key_of(phone, time_zones_for_number(phone)), _settled_by_prefix(country_code)


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
        depth = max(pattern_depth(pattern) for pattern in _country_patterns(country_code))
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
