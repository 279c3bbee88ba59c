"""Campaign counters recounted from rows: what the stored counters must always equal at rest."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.ended_reasons import VOICEMAIL_REASON
from orchestrator.calls.states import counter_bucket
from orchestrator.contacts import repository as contacts_repo
from orchestrator.models import CallStatus, Campaign
from orchestrator.models.campaign import COUNTER_COLUMNS


def stored_counters(campaign: Campaign) -> dict[str, int]:
    return {name: int(getattr(campaign, name)) for name in COUNTER_COLUMNS}


def recount_counters(session: Session, *, campaign_id: uuid.UUID) -> dict[str, int]:
    counts = dict.fromkeys(COUNTER_COLUMNS, 0)
    for status, count in contacts_repo.count_by_status(session, campaign_id=campaign_id).items():
        counts[f"contacts_{status.replace('-', '_')}"] += count
    counts["calls_counter_scheduled"] = counts["contacts_pending"]
    for status, count in calls_repo.count_by_status(session, campaign_id=campaign_id).items():
        bucket = counter_bucket(CallStatus(status))
        if bucket is not None:
            counts[bucket] += count
    counts["calls_counter_ended_voicemail"] = calls_repo.count_ended_with(
        session, campaign_id=campaign_id, ended_reason=VOICEMAIL_REASON
    )
    return counts


def counter_drift(session: Session, *, campaign: Campaign) -> dict[str, int]:
    """Stored minus recounted, for every counter that differs (empty when exact)."""
    recounted = recount_counters(session, campaign_id=campaign.id)
    stored = stored_counters(campaign)
    return {
        name: stored[name] - recounted[name]
        for name in COUNTER_COLUMNS
        if stored[name] != recounted[name]
    }
