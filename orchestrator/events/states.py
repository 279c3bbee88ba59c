"""Which campaign event a status change is, as pure functions of its (before, after) states.

A contact's terminal event is derived from the one transition that ends it, so it is recorded
exactly once per contact; a move back to waiting (a withdrawn claim, a retry) is no event.
"""

from __future__ import annotations

from enum import StrEnum

from orchestrator.models.enums import CampaignStatus, ContactStatus


class EventType(StrEnum):
    """Vapi's campaign event types (``serverMessages`` names them so)."""

    CAMPAIGN_STARTED = "campaign.started"
    CAMPAIGN_ENDED = "campaign.ended"
    CAMPAIGN_CANCELLED = "campaign.cancelled"
    CAMPAIGN_ARCHIVED = "campaign.archived"
    CONTACT_DISPATCHED = "contact.dispatched"
    CONTACT_COMPLETED = "contact.completed"
    CONTACT_FAILED = "contact.failed"
    CONTACT_SKIPPED = "contact.skipped"
    CONTACT_PREDIAL_FAILED = "contact.predial-failed"
    # Ours: a contact's text was sent, and the customer replied in its session. Written only
    # for a campaign whose ``serverMessages`` names them (receivers of Vapi's see none).
    CONTACT_SMS_SENT = "contact.sms-sent"
    CONTACT_SMS_REPLIED = "contact.sms-replied"


# The types a campaign must name in ``serverMessages`` to get: without the field it gets
# Vapi's types only.
NAMED_ONLY_EVENTS = frozenset({EventType.CONTACT_SMS_SENT, EventType.CONTACT_SMS_REPLIED})


TERMINAL_CONTACT_EVENTS = frozenset(
    {
        EventType.CONTACT_COMPLETED,
        EventType.CONTACT_FAILED,
        EventType.CONTACT_SKIPPED,
        EventType.CONTACT_PREDIAL_FAILED,
    }
)

_CONTACT_ENDS = {
    ContactStatus.COMPLETED: EventType.CONTACT_COMPLETED,
    ContactStatus.FAILED: EventType.CONTACT_FAILED,
    ContactStatus.SKIPPED: EventType.CONTACT_SKIPPED,
    ContactStatus.PREDIAL_FAILED: EventType.CONTACT_PREDIAL_FAILED,
}
_OPEN_CONTACT = (ContactStatus.PENDING, ContactStatus.DISPATCHED)
_ACTIVE_CAMPAIGN = (CampaignStatus.SCHEDULED, CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED)
_CAMPAIGN_ENDS = {
    CampaignStatus.ENDED: EventType.CAMPAIGN_ENDED,
    CampaignStatus.CANCELLED: EventType.CAMPAIGN_CANCELLED,
}


def contact_event_type(before: ContactStatus, after: ContactStatus) -> EventType | None:
    """The event a contact's move from ``before`` to ``after`` is, or None."""
    if before == ContactStatus.PENDING and after == ContactStatus.DISPATCHED:
        return EventType.CONTACT_DISPATCHED
    if before in _OPEN_CONTACT and after in _CONTACT_ENDS:
        return _CONTACT_ENDS[after]
    return None


def campaign_event_type(before: CampaignStatus, after: CampaignStatus) -> EventType | None:
    """The event a campaign's move from ``before`` to ``after`` is, or None (pause, resume)."""
    if before == CampaignStatus.SCHEDULED and after == CampaignStatus.IN_PROGRESS:
        return EventType.CAMPAIGN_STARTED
    if before in _ACTIVE_CAMPAIGN and after in _CAMPAIGN_ENDS:
        return _CAMPAIGN_ENDS[after]
    if before != CampaignStatus.ARCHIVED and after == CampaignStatus.ARCHIVED:
        return EventType.CAMPAIGN_ARCHIVED
    return None
