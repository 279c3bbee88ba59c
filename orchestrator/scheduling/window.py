"""Closing a campaign's schedule window at ``latestAt``.

Contacts never dialed become ``skipped`` with a reason; contacts waiting for a retry end as
their last attempt did; calls claimed but not sent are released; texts not yet being sent are
withdrawn (their contacts skipped). Calls and texts in flight finish, and the campaign ends
when the last of them does.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.contacts.closing import close_pending_contacts
from orchestrator.reasons import WINDOW_CLOSED
from orchestrator.scheduling.cancellation import release_unsent_calls
from orchestrator.texts.withdrawal import withdraw_campaign_texts


def close_window(session: Session, *, campaign_id: uuid.UUID, now: datetime) -> bool:
    """Close the window of a campaign past its ``latestAt``; True if anything changed."""
    campaign = campaigns_repo.lock_campaign(session, campaign_id=campaign_id)
    if (
        campaign is None
        or campaign.status not in campaigns_repo.ACTIVE_STATUSES
        or campaign.latest_at is None
        or campaign.latest_at > now
    ):
        return False
    released = release_unsent_calls(session, campaign_id=campaign_id, reason=WINDOW_CLOSED)
    total = close_pending_contacts(session, campaign_id=campaign_id, reason=WINDOW_CLOSED)
    withdrawn = withdraw_campaign_texts(
        session, campaign_id=campaign_id, reason=WINDOW_CLOSED, now=now
    )
    finished = campaigns_repo.finish_if_done(session, campaign_id=campaign_id)
    return bool(released or total or withdrawn or finished)
