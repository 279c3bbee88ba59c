"""Legal calling-hours profiles: named rule sets a campaign or an org switches on.

``us-tcpa``: 08:00-21:00 in the recipient's local time, and the rules of the number's US
state from ``us_state_rules.toml``. Where the recipient is not known exactly, every place it
may be must allow the call (the most restrictive reading):

- a key's zones are where it may be; a key with only a state ("|FL") is in that state's
  zones; a key with nothing ("", no number or an unreadable one) is anywhere in the 50 states
  and DC, as is a non-geographic US number ("|*": toll free, 5XX, 900): never in the
  campaign's fallback zone, and never in Guam, Canada or the Caribbean.
- a key that does not name its state gets the rules of every state it may be in: the states
  with an area code in one of its zones (a customer's own zone), or every state when it has
  no zone. Each state's hours are read in the zones that state spans, so such a number is
  held to Rhode Island's 09:00-18:00 in Eastern time and to the floor in Hawaii's.
- a key of zones outside the US gets only the floor, in those zones.
"""

from __future__ import annotations

from functools import lru_cache

from orchestrator.scheduling.calling_hours.conditions import Condition
from orchestrator.scheduling.calling_hours.schemas import US_TCPA, CallingHoursIn
from orchestrator.scheduling.calling_hours.state_rules import StateRule, SubjectCap, us_rules
from orchestrator.scheduling.calling_hours.us_states import state_zones, states_in_zones
from orchestrator.scheduling.calling_hours.zone_key import key_places, key_states, key_zones


def subject_caps(hours: CallingHoursIn | None, zone_key: str) -> list[SubjectCap]:
    """The per-subject attempt limits ``hours``' profile imposes on contacts with ``zone_key``
    (Florida, Oklahoma, Maryland: 3 per 86,400 s), strictest first; [] without a profile.

    A key whose state is unknown gets the caps of every state it may be in. Each cap bounds
    the attempts to one person on one subject (a campaign, say) in any window of its period.
    """
    if hours is None or hours.profile is None:
        return []
    return list(_caps(hours.profile, zone_key))


@lru_cache(maxsize=4096)
def _caps(profile: str, zone_key: str) -> tuple[SubjectCap, ...]:
    caps = {cap for state in applicable_states(profile, zone_key) for cap in state.subject_caps}
    return tuple(
        sorted(
            caps,
            key=lambda c: (c.max_attempts / c.period_seconds, c.max_attempts, c.period_seconds),
        )
    )


@lru_cache(maxsize=4096)
def applicable_states(profile: str, zone_key: str) -> tuple[StateRule, ...]:
    """The state rules of ``profile`` that bind contacts with ``zone_key``."""
    return tuple(rule for rule, _ in _state_places(profile, zone_key))


def profile_zones(profile: str, zone_key: str) -> tuple[str, ...]:
    """The zones whose local time ``profile`` judges contacts with ``zone_key`` in: the key's
    places, else every zone of the US states and DC (never the campaign's fallback zone)."""
    if profile != US_TCPA:
        raise ValueError(f"unknown calling-hours profile {profile!r}")
    return key_places(zone_key) or tuple(sorted(set().union(*state_zones().values())))


@lru_cache(maxsize=4096)
def profile_conditions(profile: str, zone_key: str) -> tuple[Condition, ...]:
    """What ``profile`` requires of an instant for contacts with ``zone_key``: the floor in
    every zone they may be in, and each state's rules in the zones where that state may be."""
    floor = us_rules().floor
    found = [Condition(zone, floor) for zone in profile_zones(profile, zone_key)]
    for state, zones in _state_places(profile, zone_key):
        found += [Condition(zone, state.spans, state.holidays) for zone in zones]
        found += [Condition(zoned.zone, zoned.spans) for zoned in state.zoned]
    # Many states share a timetable: each distinct condition is checked once.
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=4096)
def _state_places(profile: str, zone_key: str) -> tuple[tuple[StateRule, tuple[str, ...]], ...]:
    """Each state rule binding ``zone_key``, with the zones its hours are read in.

    A state the key names is read in the key's zones (a customer's own zone outside the state
    included), else in the state's own. A state the key may only be in is read where both
    the key and the state may be: a number somewhere in the 50 states is never held to Rhode
    Island's 18:00 in Hawaii, yet every state's hours hold where that state is.
    """
    if profile != US_TCPA:
        raise ValueError(f"unknown calling-hours profile {profile!r}")
    rules = us_rules().states
    zones = key_zones(zone_key)
    states = key_states(zone_key)
    if states is None:
        states = tuple(sorted(states_in_zones(zones)))
    held = state_zones()
    return tuple(
        (rules[state], _overlap(zones, held.get(state, frozenset())))
        for state in states
        if state in rules
    )


def _overlap(zones: tuple[str, ...], state_zones: frozenset[str]) -> tuple[str, ...]:
    if not zones:
        return tuple(sorted(state_zones))
    return tuple(zone for zone in zones if zone in state_zones) or zones
