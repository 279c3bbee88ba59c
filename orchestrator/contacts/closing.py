"""Closing a campaign's waiting contacts: when the user stops it, and when its window closes."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy.orm import Session

from orchestrator.campaigns import counter_repository
from orchestrator.campaigns.counters import CounterDeltas, counter_deltas
from orchestrator.contacts import repository
from orchestrator.contacts.states import ContactStatus
from orchestrator.events.recording import ContactChange, record_contact_changes


def close_pending_contacts(session: Session, *, campaign_id: uuid.UUID, reason: str) -> int:
    """Every pending contact ends, its counters with it; how many did.

    One never dialed is skipped; one waiting for a retry ends as its last attempt did.
    ``reason`` is their ``status_reason``. Contacts with a call in flight are not pending:
    they end with their call.
    """
    closed = repository.close_pending_contacts(session, campaign_id=campaign_id, reason=reason)
    counts = Counter(status for _, status, _ in closed)
    deltas = CounterDeltas()
    for status, count in counts.items():
        deltas += counter_deltas(contact_before=ContactStatus.PENDING, contact_after=status) * count
    counter_repository.bump_counters(session, campaign_id=campaign_id, deltas=deltas)
    record_contact_changes(
        session,
        (
            ContactChange(
                contact_id, campaign_id, ContactStatus.PENDING, status, ended_reason=ended_reason
            )
            for contact_id, status, ended_reason in closed
        ),
    )
    return len(closed)
