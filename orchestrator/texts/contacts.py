"""What a campaign's text does to its contact when it ends.

A campaign text settles the contact it was sent for: accepted by the provider, the contact is
``completed``; refused, ``failed``; never sent because the gate held it back (suppressed, no
frequency-cap allowance left) or it was withdrawn (its campaign stopped or its window closed,
the user deleted it or its session), ``skipped`` with that reason as ``skipReason`` (as a call
held back there). A contact that has moved on meanwhile is left as it is. Status changes go
through ``next_contact_status``, counters through ``counter_deltas``, events through
``record_contact_changes``; the contacts are locked in one statement, in id order.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from orchestrator.campaigns import counter_repository
from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.campaigns.counters import CounterDeltas, counter_deltas
from orchestrator.clock import utcnow
from orchestrator.contacts import repository as contacts_repo
from orchestrator.contacts.states import ContactEvent, next_contact_status
from orchestrator.events.recording import ContactChange, record_contact_changes
from orchestrator.models import Chat, Contact, ContactStatus, TextPurpose, TextStatus
from orchestrator.reasons import (
    CAMPAIGN_STOPPED,
    FREQUENCY_CAP,
    SUPPRESSED,
    TEXT_DELETED,
    TEXT_SESSION_DELETED,
    TEXT_WITHDRAWN_BY_USER,
    WINDOW_CLOSED,
)

# Each ending, and the move of a contact never claimed (still pending) for the same ending.
_SKIPPED = (ContactEvent.SKIP, ContactEvent.GATE_SKIP)
_SENT = (ContactEvent.COMPLETE, ContactEvent.CLOSE_COMPLETED)
_REFUSED = (ContactEvent.FAIL, ContactEvent.CLOSE_FAILED)
# A text never sent: the gate held it back, or it was withdrawn. Its contact is skipped with
# the reason given here (the v2 ``skipReason`` of each is ``campaigns.v2_wire.SKIP_REASONS``).
_SKIP_REASONS = {
    SUPPRESSED: SUPPRESSED,
    FREQUENCY_CAP: FREQUENCY_CAP,
    CAMPAIGN_STOPPED: CAMPAIGN_STOPPED,
    WINDOW_CLOSED: WINDOW_CLOSED,
    TEXT_DELETED: TEXT_WITHDRAWN_BY_USER,
    TEXT_SESSION_DELETED: TEXT_WITHDRAWN_BY_USER,
}


def _ending(chat: Chat) -> tuple[tuple[ContactEvent, ContactEvent], str | None] | None:
    """The contact's moves for how the text ended, and its ``status_reason``."""
    if chat.delivery_status == TextStatus.SENT:
        return _SENT, None
    if chat.delivery_status != TextStatus.FAILED:
        return None
    skipped = _SKIP_REASONS.get(chat.delivery_reason or "")
    if skipped is not None:
        return _SKIPPED, skipped
    return _REFUSED, chat.delivery_reason


def _settle(contact: Contact, chat: Chat) -> ContactChange | None:
    ending = _ending(chat)
    if ending is None:
        return None
    (dispatched, pending), reason = ending
    before = ContactStatus(contact.status)
    after = next_contact_status(before, dispatched) or next_contact_status(before, pending)
    if after is None:
        return None
    contact.status = after
    contact.status_reason = reason
    contact.deferral = None
    contact.updated_at = utcnow()
    return ContactChange(contact.id, contact.campaign_id, before, after)


def settle_text_contacts(session: Session, *, chats: Sequence[Chat]) -> set[uuid.UUID]:
    """Settle the contacts of the campaign texts among ``chats`` that ended; the campaigns
    whose contacts moved (each ended once none is left open)."""
    by_contact = {
        c.contact_id: c
        for c in chats
        if c.purpose == TextPurpose.CAMPAIGN and c.contact_id is not None and _ending(c)
    }
    contacts = contacts_repo.lock_contacts(session, contact_ids=by_contact)
    changes = [
        change for contact in contacts if (change := _settle(contact, by_contact[contact.id]))
    ]
    deltas: dict[uuid.UUID, CounterDeltas] = {}
    for change in changes:
        delta = counter_deltas(contact_before=change.before, contact_after=change.after)
        deltas[change.campaign_id] = deltas.get(change.campaign_id, CounterDeltas()) + delta
    for campaign_id, delta in sorted(deltas.items()):
        counter_repository.bump_counters(session, campaign_id=campaign_id, deltas=delta)
    record_contact_changes(session, changes)
    for campaign_id in sorted(deltas):
        campaigns_repo.finish_if_done(session, campaign_id=campaign_id)
    return set(deltas)
