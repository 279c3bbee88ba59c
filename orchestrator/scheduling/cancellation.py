"""Calls claimed but not yet sent when a campaign stops or pauses never reach the provider."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.service import fail_call
from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.contacts import repository as contacts_repo
from orchestrator.models import Call, ContactStatus
from orchestrator.models.base import utcnow
from orchestrator.reasons import CAMPAIGN_STOPPED_MESSAGE


def release_unsent_calls(session: Session, *, campaign_id: uuid.UUID, reason: str) -> int:
    """Fail every ``claimed`` call of the campaign; its contact ends as its last real attempt did.

    A worker that already won the compare-and-set (``dialing``) is past this point: that
    call goes out and finishes like any call in flight.
    """
    released = 0
    for call in calls_repo.unsent_calls_for_update(session, campaign_id=campaign_id):
        released += fail_call(
            session,
            call,
            reason=reason,
            message=CAMPAIGN_STOPPED_MESSAGE,
            unsent=True,
        )
    return released


def return_call_to_pending(session: Session, call: Call) -> bool:
    """Undo a claim (the call is locked and still ``claimed``): the attempt never happened."""
    contact = (
        contacts_repo.get_contact_for_update(session, contact_id=call.contact_id)
        if call.contact_id
        else None
    )
    calls_repo.delete_call(session, call)
    if contact is None or contact.status != ContactStatus.DISPATCHED:
        return False
    contact.status = ContactStatus.PENDING
    contact.attempts -= 1
    contact.updated_at = utcnow()
    session.flush()
    if call.campaign_id is not None:
        campaigns_repo.bump_counters(
            session,
            campaign_id=call.campaign_id,
            calls_counter_queued=-1,
            calls_counter_scheduled=1,
            contacts_dispatched=-1,
            contacts_pending=1,
        )
    return True


def return_unsent_calls(session: Session, *, campaign_id: uuid.UUID) -> int:
    """On pause: every claimed call is undone, its contact waits for the resume."""
    return sum(
        return_call_to_pending(session, call)
        for call in calls_repo.unsent_calls_for_update(session, campaign_id=campaign_id)
    )
