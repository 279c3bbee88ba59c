"""Legal calling-hours profiles: named rule sets a campaign or an org switches on.

``us-tcpa``: 08:00-21:00 in the recipient's local time (every zone of its key), and the rules
of the number's US state from ``us_state_rules.toml``. A key that does not name its state (a
non-geographic area code, a contact created before states were recorded, nothing known at
all) gets the rules of every state it may be in, all at once: the states with an area code in
one of its zones, or every state when it has no zone. A key of zones outside the US gets only
the floor.
"""

from __future__ import annotations

from functools import lru_cache

from orchestrator.scheduling.calling_hours.conditions import Condition
from orchestrator.scheduling.calling_hours.schemas import US_TCPA, CallingHoursIn
from orchestrator.scheduling.calling_hours.state_rules import StateRule, SubjectCap, us_rules
from orchestrator.scheduling.calling_hours.us_states import states_in_zones
from orchestrator.scheduling.calling_hours.zone_key import key_states, key_zones


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
    if profile != US_TCPA:
        raise ValueError(f"unknown calling-hours profile {profile!r}")
    rules = us_rules().states
    states = key_states(zone_key)
    if states is None:
        states = tuple(sorted(states_in_zones(key_zones(zone_key))))
    return tuple(rules[state] for state in states if state in rules)


@lru_cache(maxsize=4096)
def profile_conditions(profile: str, zone_key: str, fallback_zone: str) -> tuple[Condition, ...]:
    """What ``profile`` requires of an instant for contacts with ``zone_key`` (their zones, or
    ``fallback_zone`` when the key has none)."""
    zones = key_zones(zone_key) or (fallback_zone,)
    floor = us_rules().floor
    found = [Condition(zone, floor) for zone in zones]
    for state in applicable_states(profile, zone_key):
        found += [Condition(zone, state.spans, state.holidays) for zone in zones]
        found += [Condition(zoned.zone, zoned.spans) for zoned in state.zoned]
    # Many states share a timetable: each distinct condition is checked once.
    return tuple(dict.fromkeys(found))
