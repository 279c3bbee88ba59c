"""Calls claimed but not yet sent when a campaign stops are released, never dialed."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.service import fail_call
from orchestrator.models import ContactStatus


def release_unsent_calls(session: Session, *, campaign_id: uuid.UUID, reason: str) -> int:
    """Fail every ``claimed`` call of the campaign and skip its contact.

    A worker that already won the compare-and-set (``dialing``) is past this point: that
    call goes out and finishes like any call in flight.
    """
    released = 0
    for call in calls_repo.unsent_calls_for_update(session, campaign_id=campaign_id):
        released += fail_call(
            session,
            call,
            reason=reason,
            message="campaign stopped before the call was placed",
            contact_outcome=ContactStatus.SKIPPED,
        )
    return released
