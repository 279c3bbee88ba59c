"""A campaign's pre-dial plan, read from its stored ``predialPlan`` and ``server``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from orchestrator.models import Campaign
from orchestrator.user_servers.schemas import DEFAULT_TIMEOUT_SECONDS

# Vapi waits at most this long for a pre-dial answer, whatever ``server.timeoutSeconds`` says.
MAX_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_ERROR_RETRIES = 3


class OnError(StrEnum):
    """What a check that gave no verdict does to the contact."""

    FAIL = "fail"  # Vapi: predial-failed
    DIAL = "dial"  # dialed as if eligible
    RETRY = "retry"  # asked again later, a bounded number of times, then predial-failed


@dataclass(frozen=True)
class PredialPlan:
    url: str | None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    on_error: OnError = OnError.FAIL
    max_error_retries: int = DEFAULT_MAX_ERROR_RETRIES


def _enabled(plan: Any) -> bool:
    return isinstance(plan, Mapping) and plan.get("enabled", True) is not False


def predial_plan_of(campaign: Campaign) -> PredialPlan | None:
    """The campaign's checks, or None when it runs none (no plan, or ``enabled: false``)."""
    if not _enabled(campaign.predial_plan):
        return None
    plan: Mapping[str, Any] = campaign.predial_plan or {}
    server: Mapping[str, Any] = campaign.server or {}
    timeout = server.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS
    return PredialPlan(
        url=server.get("url"),
        headers=dict(server.get("headers") or {}),
        timeout_seconds=min(float(timeout), MAX_TIMEOUT_SECONDS),
        on_error=OnError(plan.get("onError") or OnError.FAIL),
        max_error_retries=int(plan.get("onErrorMaxRetries", DEFAULT_MAX_ERROR_RETRIES)),
    )
