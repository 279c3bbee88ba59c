"""Which caps the gate counts a recipient's attempts against: the org's, and its subject's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

from orchestrator.gate.caps import CALL, Cap, org_caps
from orchestrator.models import Campaign, Org
from orchestrator.policy.schemas import policy_of
from orchestrator.scheduling.calling_hours.profiles import subject_caps
from orchestrator.scheduling.calling_hours.schemas import CallingHoursIn
from orchestrator.scheduling.policy import calling_hours_of, direct_calling_hours

# Caps on one subject by the recipient's calling-hours zone key.
SubjectCaps = Callable[[str], tuple[Cap, ...]]


def caps_of(org: Org, *, channel: str = CALL) -> tuple[Cap, ...]:
    """The org's ``frequencyCaps`` on sends over ``channel``, over every campaign and direct
    call or text."""
    return org_caps(policy_of(org), channel=channel)


def subject_caps_of(campaign: Campaign | None, org: Org) -> SubjectCaps | None:
    """The caps a campaign (None: the org's direct calls) sets on its own attempts to a
    recipient, by the recipient's zone key, beyond the org's; None when it sets none, so
    callers need not work out zone keys. A legal calling-hours profile's limits on one subject
    (Florida's 3 attempts per 24 hours, say) are such caps."""
    hours = calling_hours_of(campaign, org) if campaign is not None else direct_calling_hours(org)
    if hours is None or hours.profile is None:
        return None
    return partial(_profile_caps, hours)


def _profile_caps(hours: CallingHoursIn, zone_key: str) -> tuple[Cap, ...]:
    return tuple(
        Cap(cap.max_attempts, timedelta(seconds=cap.period_seconds), per_subject=True)
        for cap in subject_caps(hours, zone_key)
    )
