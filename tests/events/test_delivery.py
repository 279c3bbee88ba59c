"""What a delivery sends, and when a failed one is tried again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orchestrator.events.delivery import (
    Attempt,
    DefaultBackoff,
    envelope,
    event_headers,
    next_attempt_at,
    server_target,
)

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DEFAULT = DefaultBackoff(base_seconds=5, max_delay_seconds=3600, max_age_seconds=86400)


def _attempt(attempts: int, *, status: int | None = 500, age: float = 0) -> Attempt:
    return Attempt(attempts, status, NOW - timedelta(seconds=age), NOW)


def _highest(ceiling: float) -> float:
    return ceiling


@pytest.mark.parametrize(
    ("attempts", "ceiling"), [(1, 5), (2, 10), (3, 20), (5, 80), (10, 2560), (11, 3600), (30, 3600)]
)
def test_the_default_delay_doubles_up_to_its_cap(attempts: int, ceiling: float) -> None:
    due = next_attempt_at(_attempt(attempts), default=DEFAULT, backoff_plan=None, jitter=_highest)
    assert due == NOW + timedelta(seconds=ceiling)


def test_the_default_delay_is_jittered_between_nothing_and_its_ceiling() -> None:
    delays = {next_attempt_at(_attempt(4), default=DEFAULT, backoff_plan=None) for _ in range(200)}
    assert all(d is not None and NOW <= d <= NOW + timedelta(seconds=40) for d in delays)
    assert len(delays) > 150, "full jitter spreads retries"


def test_no_retry_past_the_age_limit_of_the_event() -> None:
    young = _attempt(12, age=86400 - 3601)
    old = _attempt(12, age=86400 - 3599)
    assert next_attempt_at(young, default=DEFAULT, backoff_plan=None, jitter=_highest) is not None
    assert next_attempt_at(old, default=DEFAULT, backoff_plan=None, jitter=_highest) is None


def _plan(**plan: Any) -> dict[str, Any]:
    return {"type": "fixed", "maxRetries": 3, "baseDelaySeconds": 2, **plan}


def test_a_fixed_backoff_plan_waits_its_delay_up_to_its_retries() -> None:
    dues = [next_attempt_at(_attempt(n), default=DEFAULT, backoff_plan=_plan()) for n in (1, 3, 4)]
    assert dues == [NOW + timedelta(seconds=2), NOW + timedelta(seconds=2), None]


def test_an_exponential_backoff_plan_doubles() -> None:
    plan = _plan(type="exponential", maxRetries=5)
    dues = [next_attempt_at(_attempt(n), default=DEFAULT, backoff_plan=plan) for n in (1, 2, 3)]
    assert dues == [NOW + timedelta(seconds=s) for s in (2, 4, 8)]


def test_excluded_status_codes_are_never_retried() -> None:
    plan = _plan(excludedStatusCodes=[400, 410])
    assert next_attempt_at(_attempt(1, status=410), default=DEFAULT, backoff_plan=plan) is None
    assert next_attempt_at(_attempt(1, status=500), default=DEFAULT, backoff_plan=plan) is not None
    unanswered = _attempt(1, status=None)
    assert next_attempt_at(unanswered, default=DEFAULT, backoff_plan=plan) is not None


def test_the_envelope_is_vapis_campaign_event_with_our_id_and_sequence() -> None:
    body = envelope(
        event_id="e-1",
        campaign_id="c-1",
        sequence=7,
        event_type="contact.completed",
        data={"contactId": "k"},
        occurred_at=NOW,
    )
    assert json.loads(body) == {
        "message": {
            "type": "campaign.event",
            "timestamp": int(NOW.timestamp() * 1000),
            "campaignId": "c-1",
            "eventType": "contact.completed",
            "data": {"contactId": "k"},
            "eventId": "e-1",
            "sequence": 7,
        }
    }
    assert event_headers(event_id="e-1", campaign_id="c-1", sequence=7) == {
        "x-event-id": "e-1",
        "x-event-sequence": "7",
        "x-campaign-id": "c-1",
    }


def test_a_server_without_a_timeout_waits_vapis_default() -> None:
    target = server_target({"url": "https://example.com/h", "headers": {"a": "b"}})
    assert (target.url, dict(target.headers), target.timeout_seconds) == (
        "https://example.com/h",
        {"a": "b"},
        20.0,
    )
    assert server_target({"url": "https://x.example", "timeoutSeconds": 3}).timeout_seconds == 3
