"""What a campaign's text does to its contact when it ends.

A campaign text settles the contact it was sent for: accepted by the provider, the contact is
``completed``; refused, ``failed``; held back at its send because the number is suppressed,
``skipped`` with ``skipReason`` ``suppressed`` (as a call held back there). A contact that has
moved on meanwhile is left as it is. Status changes go through ``next_contact_status``,
counters through ``counter_deltas``, events through ``record_contact_changes``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from orchestrator.campaigns import counter_repository
from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.campaigns.counters import counter_deltas
from orchestrator.clock import utcnow
from orchestrator.contacts.states import ContactEvent, next_contact_status
from orchestrator.events.recording import ContactChange, record_contact_changes
from orchestrator.models import Chat, Contact, ContactStatus, TextPurpose, TextStatus
from orchestrator.reasons import SUPPRESSED

# Each ending, and the move of a contact never claimed (still pending) for the same ending.
_SUPPRESSED = (ContactEvent.SKIP, ContactEvent.GATE_SKIP)
_SENT = (ContactEvent.COMPLETE, ContactEvent.CLOSE_COMPLETED)
_REFUSED = (ContactEvent.FAIL, ContactEvent.CLOSE_FAILED)


def _events(chat: Chat) -> tuple[ContactEvent, ContactEvent] | None:
    if chat.delivery_status == TextStatus.SENT:
        return _SENT
    if chat.delivery_status != TextStatus.FAILED:
        return None
    return _SUPPRESSED if chat.delivery_reason == SUPPRESSED else _REFUSED


def _settle(session: Session, chat: Chat) -> ContactChange | None:
    events = _events(chat)
    if events is None or chat.contact_id is None:
        return None
    contact = session.get(Contact, chat.contact_id, with_for_update=True)
    if contact is None:
        return None
    before = ContactStatus(contact.status)
    dispatched, pending = events
    after = next_contact_status(before, dispatched) or next_contact_status(before, pending)
    if after is None:
        return None
    contact.status = after
    contact.status_reason = chat.delivery_reason if after != ContactStatus.COMPLETED else None
    contact.deferral = None
    contact.updated_at = utcnow()
    counter_repository.bump_counters(
        session,
        campaign_id=contact.campaign_id,
        deltas=counter_deltas(contact_before=before, contact_after=after),
    )
    return ContactChange(contact.id, contact.campaign_id, before, after)


def settle_text_contacts(session: Session, *, chats: Sequence[Chat]) -> set[uuid.UUID]:
    """Settle the contacts of the campaign texts among ``chats`` that ended; the campaigns
    whose contacts moved (each ended once none is left open)."""
    campaign_texts = sorted(
        (c for c in chats if c.purpose == TextPurpose.CAMPAIGN and c.contact_id is not None),
        key=lambda c: str(c.contact_id),
    )
    changes = [change for chat in campaign_texts if (change := _settle(session, chat))]
    record_contact_changes(session, changes)
    campaigns = {change.campaign_id for change in changes}
    for campaign_id in sorted(campaigns):
        campaigns_repo.finish_if_done(session, campaign_id=campaign_id)
    return campaigns
