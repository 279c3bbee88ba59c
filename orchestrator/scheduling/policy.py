"""Which calling hours a campaign or a direct call dials under.

For a campaign: its own ``callingHours`` (with or without a profile); else the org's default
profile (``PUT /policy`` ``callingHoursProfile``); else the default policy, every day
08:00-21:00 local time, when the org switched it on; else none. The org's profile is also a
floor under a campaign's own windows: a campaign that names no profile still gets the org's,
its windows narrowing it, so no campaign can dial outside the hours its org's compliance set.
Direct calls (``POST /call``) follow the org's profile, else its default policy.
"""

from __future__ import annotations

from orchestrator.models import Campaign, Org
from orchestrator.policy.schemas import policy_of
from orchestrator.scheduling.calling_hours.schemas import (
    DEFAULT_CALLING_HOURS,
    CallingHoursIn,
    CallingHoursProfile,
    profile_hours,
)

CALLING_HOURS_FIELD = "callingHours"


def calling_hours_of(campaign: Campaign, org: Org | None) -> CallingHoursIn | None:
    """The hours ``campaign``'s contacts are dialed under (None: any time)."""
    floor = org_profile(org)
    stored = (campaign.extensions or {}).get(CALLING_HOURS_FIELD)
    if stored is not None:
        hours = CallingHoursIn.model_validate(stored)
        if hours.profile is None and floor is not None:
            return hours.model_copy(update={"profile": floor})
        return hours
    return _org_default(org, floor)


def direct_calling_hours(org: Org) -> CallingHoursIn | None:
    """The hours the org's direct calls are dialed under (None: any time)."""
    return _org_default(org, org_profile(org))


def org_profile(org: Org | None) -> CallingHoursProfile | None:
    return None if org is None else policy_of(org).calling_hours_profile


def _org_default(org: Org | None, profile: CallingHoursProfile | None) -> CallingHoursIn | None:
    if profile is not None:
        return profile_hours(profile)
    if org is not None and org.default_calling_hours:
        return DEFAULT_CALLING_HOURS
    return None
