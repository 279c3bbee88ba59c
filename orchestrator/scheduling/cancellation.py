"""Calls claimed but not yet sent when a campaign stops or pauses never reach the provider."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.service import fail_call, return_call_to_pending
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


def return_unsent_calls(session: Session, *, campaign_id: uuid.UUID) -> int:
    """On pause: every claimed call is undone, its contact waits for the resume."""
    return sum(
        return_call_to_pending(session, call)
        for call in calls_repo.unsent_calls_for_update(session, campaign_id=campaign_id)
    )
