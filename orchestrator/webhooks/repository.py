"""Queries for stored webhook events."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from orchestrator.models import WebhookEvent


def add_event(
    session: Session,
    *,
    message_type: str,
    provider_call_id: str | None,
    status: str | None,
    ended_reason: str | None,
    payload: dict[str, Any],
) -> WebhookEvent:
    event = WebhookEvent(
        message_type=message_type,
        provider_call_id=provider_call_id,
        status=status,
        ended_reason=ended_reason,
        payload=payload,
    )
    session.add(event)
    session.flush()
    return event
