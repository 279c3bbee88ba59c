"""Which calling hours apply: the campaign's, the org's profile (also a floor under the
campaign's windows), the org's default policy, or none."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.models import Campaign, Org
from orchestrator.scheduling.calling_hours.schemas import DEFAULT_CALLING_HOURS, profile_hours
from orchestrator.scheduling.policy import calling_hours_of, direct_calling_hours

WINDOWS = {"windows": [{"days": ["mon"], "start": "09:00", "end": "17:00"}]}
TCPA_POLICY = {"callingHoursProfile": "us-tcpa"}


def _org(*, policy: dict[str, Any] | None = None, default: bool = False) -> Org:
    return Org(name="o", concurrency_limit=1, policy=policy or {}, default_calling_hours=default)


def _campaign(hours: dict[str, Any] | None) -> Campaign:
    return Campaign(extensions={} if hours is None else {"callingHours": hours})


@pytest.mark.parametrize("default", [False, True])
def test_the_campaigns_own_hours_come_first(default: bool) -> None:
    hours = calling_hours_of(_campaign(WINDOWS), _org(default=default))
    assert hours is not None
    assert (hours.profile, hours.windows is not None) == (None, True)
    own_profile = calling_hours_of(_campaign({"profile": "us-tcpa"}), _org(default=default))
    assert own_profile == profile_hours("us-tcpa")


def test_the_org_profile_is_a_floor_under_windows_without_a_profile() -> None:
    hours = calling_hours_of(_campaign(WINDOWS), _org(policy=TCPA_POLICY))
    assert hours is not None
    assert hours.profile == "us-tcpa"
    assert hours.windows is not None
    assert [w.start for w in hours.windows] == ["09:00"]


def test_without_campaign_hours_the_org_profile_then_its_default_policy() -> None:
    both = _org(policy=TCPA_POLICY, default=True)
    assert calling_hours_of(_campaign(None), both) == profile_hours("us-tcpa")
    assert calling_hours_of(_campaign(None), _org(default=True)) == DEFAULT_CALLING_HOURS
    assert calling_hours_of(_campaign(None), _org()) is None
    assert calling_hours_of(_campaign(None), None) is None


def test_direct_calls_follow_the_org_profile_then_its_default_policy() -> None:
    assert direct_calling_hours(_org(policy=TCPA_POLICY, default=True)) == profile_hours("us-tcpa")
    assert direct_calling_hours(_org(default=True)) == DEFAULT_CALLING_HOURS
    assert direct_calling_hours(_org()) is None
