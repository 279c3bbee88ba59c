"""The provider's server messages about a call, as its webhooks carry them, and how the stored
ones came out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.models import Call, WebhookEvent


def status_update(
    call: Call, status: str, *, call_fields: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "message": {
            "type": "status-update",
            "status": status,
            "call": {"id": call.provider_call_id, **(call_fields or {})},
            **extra,
        }
    }


def report(call: Call, ended_reason: str, **extra: Any) -> dict[str, Any]:
    return {
        "message": {
            "type": "end-of-call-report",
            "endedReason": ended_reason,
            "startedAt": "2026-03-01T12:00:01.000Z",
            "endedAt": "2026-03-01T12:00:31.000Z",
            "cost": 0.12,
            "analysis": {"summary": "Booked for Tuesday."},
            "artifact": {},
            "call": {"id": call.provider_call_id},
            **extra,
        }
    }


def whole_call(call: Call, *, ended_reason: str) -> list[dict[str, Any]]:
    """Every message of an answered call, in the order the provider sends them."""
    ended = status_update(call, "ended", endedReason=ended_reason)
    ringing, talking = status_update(call, "ringing"), status_update(call, "in-progress")
    return [ringing, talking, ended, report(call, ended_reason)]


def webhook_outcomes(session: Session) -> dict[str | None, int]:
    """How many stored messages have each outcome (None: waiting to be applied)."""
    rows = session.execute(select(WebhookEvent.outcome, func.count()).group_by("outcome"))
    return {row[0]: row[1] for row in rows}
