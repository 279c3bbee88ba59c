"""Campaign events for their owner: listing them and sending failed ones again."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.events import repository
from orchestrator.events.schemas import EventListQuery, RedeliverIn
from orchestrator.exceptions import NotFound, ValidationFailed, id_or_not_found
from orchestrator.listing import page_metadata
from orchestrator.models import CampaignEventStatus, OutboxEvent
from orchestrator.wire import iso

NOT_FOUND = "Campaign not found"


def _campaign_id(session: Session, *, org_id: uuid.UUID, campaign_id: str) -> uuid.UUID:
    """The org's campaign (archived ones too: their events are still theirs)."""
    parsed = id_or_not_found(campaign_id, message=NOT_FOUND)
    if not repository.campaign_of_org(session, org_id=org_id, campaign_id=parsed):
        raise NotFound(NOT_FOUND)
    return parsed


def event_to_wire(event: OutboxEvent) -> dict[str, Any]:
    pending = event.status == CampaignEventStatus.PENDING
    return {
        "id": str(event.id),
        "campaignId": str(event.campaign_id),
        "sequence": event.sequence,
        "eventType": event.event_type,
        "data": event.data,
        "status": str(event.status),
        "attempts": event.attempts,
        "lastError": event.last_error,
        "occurredAt": iso(event.occurred_at),
        "nextAttemptAt": iso(event.next_attempt_at) if pending else None,
        "deliveredAt": iso(event.delivered_at),
    }


def list_events(
    session: Session, *, org_id: uuid.UUID, campaign_id: str, query: EventListQuery
) -> dict[str, Any]:
    parsed = _campaign_id(session, org_id=org_id, campaign_id=campaign_id)
    status = CampaignEventStatus(query.status) if query.status else None
    events, total = repository.list_events(
        session,
        campaign_id=parsed,
        status=status,
        limit=query.limit,
        offset=(query.page - 1) * query.limit,
    )
    return {
        "results": [event_to_wire(event) for event in events],
        "metadata": page_metadata(total=total, limit=query.limit, page=query.page),
    }


def _event_ids(body: RedeliverIn | None) -> list[uuid.UUID] | None:
    if body is None or body.event_ids is None:
        return None
    ids, bad = [], []
    for value in body.event_ids:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            bad.append(f"eventIds must contain UUIDs: {value!r} is not one")
    if bad:
        raise ValidationFailed(bad)
    return ids


def redeliver_events(
    session: Session, *, org_id: uuid.UUID, campaign_id: str, body: RedeliverIn | None
) -> dict[str, Any]:
    """Failed events (or the given ones, unless pending) are due again now, as a new round."""
    parsed = _campaign_id(session, org_id=org_id, campaign_id=campaign_id)
    event_ids = _event_ids(body)
    queued = repository.redeliver(session, campaign_id=parsed, event_ids=event_ids, now=utcnow())
    return {"queued": queued}
