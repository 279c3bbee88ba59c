"""Campaign counters recounted from rows: what the stored counters must always equal at rest.

The stored counters are the sums of the campaign's shard rows (``campaigns.repository``);
both are read here from one snapshot, so a comparison is never confused by a transaction
that committed between reading the rows and reading the counters.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.orm import Session

from orchestrator.calls.ended_reasons import VOICEMAIL_REASON
from orchestrator.calls.states import counter_bucket
from orchestrator.campaigns import repository
from orchestrator.models import CallStatus, Campaign
from orchestrator.models.campaign_counter_shard import COUNTER_COLUMNS


def counters_from_rows(
    *,
    contacts_by_status: Mapping[str, int],
    calls_by_status: Mapping[str, int],
    calls_ended_voicemail: int,
) -> dict[str, int]:
    """What every counter must be, given the campaign's contacts and calls counted by status."""
    counts = dict.fromkeys(COUNTER_COLUMNS, 0)
    for status, count in contacts_by_status.items():
        counts[f"contacts_{status.replace('-', '_')}"] += count
    counts["calls_counter_scheduled"] = counts["contacts_pending"]
    for status, count in calls_by_status.items():
        bucket = counter_bucket(CallStatus(status))
        if bucket is not None:
            counts[bucket] += count
    counts["calls_counter_ended_voicemail"] = calls_ended_voicemail
    return counts


def counters_and_recount(
    session: Session, *, campaign_id: uuid.UUID
) -> tuple[dict[str, int], dict[str, int]]:
    """``(stored, recounted)``, both as of one snapshot."""
    read = repository.rows_and_counters(
        session, campaign_id=campaign_id, ended_reason=VOICEMAIL_REASON
    )
    recounted = counters_from_rows(
        contacts_by_status=read.contacts_by_status,
        calls_by_status=read.calls_by_status,
        calls_ended_voicemail=read.calls_ended_with_reason,
    )
    return read.stored.as_dict(), recounted


def stored_counters(session: Session, *, campaign_id: uuid.UUID) -> dict[str, int]:
    """The counters as stored now: the sums over the campaign's shards."""
    return repository.counters_of(session, campaign_ids=[campaign_id])[campaign_id].as_dict()


def recount_counters(session: Session, *, campaign_id: uuid.UUID) -> dict[str, int]:
    return counters_and_recount(session, campaign_id=campaign_id)[1]


def drift_between(stored: Mapping[str, int], recounted: Mapping[str, int]) -> dict[str, int]:
    """Stored minus recounted, for every counter that differs (empty when exact)."""
    return {
        name: stored[name] - recounted[name]
        for name in COUNTER_COLUMNS
        if stored[name] != recounted[name]
    }


def counter_drift(session: Session, *, campaign: Campaign) -> dict[str, int]:
    """Stored minus recounted, for every counter that differs (empty when exact)."""
    stored, recounted = counters_and_recount(session, campaign_id=campaign.id)
    return drift_between(stored, recounted)
