"""What a delivery sends, and when a failed one is tried again: pure functions."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from orchestrator.user_servers.schemas import DEFAULT_TIMEOUT_SECONDS
from orchestrator.user_servers.sending import ServerTarget, encode_body

MESSAGE_TYPE = "campaign.event"
EVENT_ID_HEADER = "x-event-id"
EVENT_SEQUENCE_HEADER = "x-event-sequence"
CAMPAIGN_ID_HEADER = "x-campaign-id"


def epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def envelope(
    *,
    event_id: str,
    campaign_id: str,
    sequence: int,
    event_type: str,
    data: dict[str, Any],
    occurred_at: datetime,
) -> bytes:
    """The body: Vapi's ``campaign.event`` message, with our event id and sequence."""
    message = {
        "type": MESSAGE_TYPE,
        "timestamp": epoch_ms(occurred_at),
        "campaignId": campaign_id,
        "eventType": event_type,
        "data": data,
        "eventId": event_id,
        "sequence": sequence,
    }
    return encode_body({"message": message})


def event_headers(*, event_id: str, campaign_id: str, sequence: int) -> dict[str, str]:
    return {
        EVENT_ID_HEADER: event_id,
        EVENT_SEQUENCE_HEADER: str(sequence),
        CAMPAIGN_ID_HEADER: campaign_id,
    }


def server_target(server: dict[str, Any]) -> ServerTarget:
    """The campaign's ``server`` as stored (Vapi's camelCase) as somewhere to send to."""
    timeout = server.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS
    headers = server.get("headers") or {}
    return ServerTarget(
        url=str(server.get("url") or ""),
        headers={str(k): str(v) for k, v in headers.items()},
        timeout_seconds=float(timeout),
    )


@dataclass(frozen=True)
class DefaultBackoff:
    """Exponential backoff with full jitter, for up to ``max_age_seconds`` after the event."""

    base_seconds: float
    max_delay_seconds: float
    max_age_seconds: float


@dataclass(frozen=True)
class Attempt:
    """A failed attempt: the ``attempts`` made so far (this one included), its status code."""

    attempts: int
    status_code: int | None
    retry_window_from: datetime
    now: datetime


Jitter = Callable[[float], float]


def full_jitter(ceiling: float) -> float:
    return random.uniform(0, ceiling)


def next_attempt_at(
    attempt: Attempt,
    *,
    default: DefaultBackoff,
    backoff_plan: dict[str, Any] | None,
    jitter: Jitter = full_jitter,
) -> datetime | None:
    """When a failed delivery is tried again, or None when it is not (it has failed).

    The campaign's ``server.backoffPlan`` (Vapi's) wins when it sets one: its type, retries
    and base delay, and no retry for its ``excludedStatusCodes``.
    """
    if backoff_plan:
        delay = _planned_delay(attempt, backoff_plan)
        return None if delay is None else attempt.now + timedelta(seconds=delay)
    ceiling = min(default.max_delay_seconds, default.base_seconds * 2 ** (attempt.attempts - 1))
    due = attempt.now + timedelta(seconds=jitter(ceiling))
    if due > attempt.retry_window_from + timedelta(seconds=default.max_age_seconds):
        return None
    return due


def _planned_delay(attempt: Attempt, plan: dict[str, Any]) -> float | None:
    excluded = plan.get("excludedStatusCodes") or []
    if attempt.status_code is not None and attempt.status_code in excluded:
        return None
    if attempt.attempts > int(plan.get("maxRetries", 0)):
        return None
    base = float(plan.get("baseDelaySeconds", 0))
    if plan.get("type") == "exponential":
        return base * float(2 ** (attempt.attempts - 1))
    return base
