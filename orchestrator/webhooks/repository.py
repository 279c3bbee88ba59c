"""Queries for stored webhook events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from orchestrator.models import WebhookEvent


def add_event_once(
    session: Session,
    *,
    message_type: str,
    provider_call_id: str | None,
    status: str | None,
    ended_reason: str | None,
    dedupe_key: str,
    payload: dict[str, Any],
) -> WebhookEvent | None:
    """Store the event unless one with the same key is stored (then None).

    A concurrent delivery of the same message waits on the unique key, then finds it taken.
    """
    stmt = (
        insert(WebhookEvent)
        .values(
            message_type=message_type,
            provider_call_id=provider_call_id,
            status=status,
            ended_reason=ended_reason,
            dedupe_key=dedupe_key,
            payload=payload,
        )
        .on_conflict_do_nothing(
            index_elements=["dedupe_key"], index_where=text("dedupe_key IS NOT NULL")
        )
        .returning(WebhookEvent)
    )
    return session.scalars(stmt, execution_options={"populate_existing": True}).first()


def parked_events_for_update(session: Session, *, provider_call_id: str) -> Sequence[WebhookEvent]:
    """The call's parked events, locked, oldest first (almost always none: checked cheaply)."""
    events = WebhookEvent.__table__
    parked = select(events.c.id).where(
        events.c.provider_call_id == provider_call_id, events.c.outcome == "parked"
    )
    if session.execute(parked.limit(1)).first() is None:
        return []
    stmt = (
        select(WebhookEvent)
        .where(WebhookEvent.provider_call_id == provider_call_id, WebhookEvent.outcome == "parked")
        .order_by(WebhookEvent.id)
        .with_for_update()
    )
    return session.scalars(stmt).all()
