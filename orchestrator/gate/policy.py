"""Which caps the gate counts a recipient's attempts against: the org's, and its subject's."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.gate.caps import Cap, org_caps
from orchestrator.models import Campaign, Org
from orchestrator.policy.schemas import policy_of

# Caps on one subject by the recipient's calling-hours zone key.
SubjectCaps = Callable[[str], tuple[Cap, ...]]


def caps_of(org: Org) -> tuple[Cap, ...]:
    """The org's ``frequencyCaps``, over every campaign and direct call."""
    return org_caps(policy_of(org))


def subject_caps_of(campaign: Campaign | None, org: Org) -> SubjectCaps | None:
    """The caps a campaign (None: the org's direct calls) sets on its own attempts to a
    recipient, by the recipient's zone key, beyond the org's; None when it sets none, so
    callers need not work out zone keys. A legal calling-hours profile's limits per caller
    (a state's attempts per 24 hours) are such caps; the calling hours here set none."""
    return None
