"""Which calling hours a campaign dials under: its own, the org's default policy, or none."""

from __future__ import annotations

from orchestrator.models import Campaign, Org
from orchestrator.scheduling.calling_hours.schemas import DEFAULT_CALLING_HOURS, CallingHoursIn

CALLING_HOURS_FIELD = "callingHours"


def calling_hours_of(campaign: Campaign, org: Org | None) -> CallingHoursIn | None:
    """The campaign's ``callingHours``; else the default policy when the org switched it on."""
    stored = (campaign.extensions or {}).get(CALLING_HOURS_FIELD)
    if stored is not None:
        return CallingHoursIn.model_validate(stored)
    if org is not None and org.default_calling_hours:
        return DEFAULT_CALLING_HOURS
    return None
