"""Recording campaign events in the caller's transaction, beside the change they report.

Every change goes through one set-based statement that writes an event only for campaigns
with a ``server.url`` whose ``serverMessages`` (when given) select its type: a campaign
without a server costs that one statement and nothing more.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.events import repository
from orchestrator.events.repository import NewEvent
from orchestrator.events.states import EventType, campaign_event_type, contact_event_type
from orchestrator.models.enums import CampaignStatus, ContactStatus

__all__ = [
    "ContactChange",
    "contact_event",
    "record_campaign_change",
    "record_contact_changes",
    "record_events",
]


@dataclass(frozen=True)
class ContactChange:
    """A contact's move, with what its event says: the call that ended it and why."""

    contact_id: uuid.UUID
    campaign_id: uuid.UUID
    before: ContactStatus
    after: ContactStatus
    # The attempt that settled it; None when that attempt never left (the last real one is
    # looked up).
    call_id: uuid.UUID | None = None
    ended_reason: str | None = None
    # Why a pre-dial check failed.
    error: str | None = None


def contact_event(change: ContactChange) -> NewEvent | None:
    """The event of a contact's move, with Vapi's data for its type, or None."""
    event_type = contact_event_type(change.before, change.after)
    if event_type is None:
        return None
    data: dict[str, Any] = {"contactId": str(change.contact_id)}
    if event_type in (EventType.CONTACT_COMPLETED, EventType.CONTACT_FAILED):
        data["callId"] = str(change.call_id) if change.call_id else None
        data["endedReason"] = change.ended_reason
    elif event_type == EventType.CONTACT_PREDIAL_FAILED:
        data["error"] = change.error
    return NewEvent(change.campaign_id, event_type, data)


def record_events(
    session: Session, events: Sequence[NewEvent], *, now: datetime | None = None
) -> int:
    """Write ``events`` for the campaigns that want them; how many were written."""
    if not events:
        return 0
    return repository.insert_events(session, events, now=now or utcnow())


def record_contact_changes(
    session: Session, changes: Iterable[ContactChange], *, now: datetime | None = None
) -> int:
    """The events of many contacts' moves, in one statement (moves that are none are dropped).

    A completed or failed contact whose settling attempt was never sent ends as its last
    real attempt did: that attempt's call id is looked up.
    """
    events = [event for change in changes if (event := contact_event(change)) is not None]
    unknown = [e for e in events if "callId" in e.data and not e.data["callId"]]
    if unknown:
        contact_ids = [uuid.UUID(e.data["contactId"]) for e in unknown]
        last_calls = repository.last_sent_call_ids(session, contact_ids=contact_ids)
        for event, contact_id in zip(unknown, contact_ids, strict=True):
            call_id = last_calls.get(contact_id)
            event.data["callId"] = str(call_id) if call_id else None
    return record_events(session, events, now=now)


def record_campaign_change(
    session: Session,
    *,
    campaign_id: uuid.UUID,
    before: CampaignStatus,
    after: CampaignStatus,
    ended_reason: str | None = None,
) -> int:
    """The event of a campaign's move (``endedReason`` on an end or a cancel), if it is one."""
    event_type = campaign_event_type(before, after)
    if event_type is None:
        return 0
    data: dict[str, Any] = {}
    if event_type in (EventType.CAMPAIGN_ENDED, EventType.CAMPAIGN_CANCELLED):
        data["endedReason"] = ended_reason
    return record_events(session, [NewEvent(campaign_id, event_type, data)])


def record_campaigns_ended(
    session: Session, *, campaign_ids: Sequence[uuid.UUID], ended_reason: str
) -> int:
    """``campaign.ended`` for many campaigns ended together (the scheduler's sweep)."""
    data = {"endedReason": ended_reason}
    events = [NewEvent(c, EventType.CAMPAIGN_ENDED, dict(data)) for c in campaign_ids]
    return record_events(session, events)
