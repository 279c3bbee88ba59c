"""A campaign's activity for its owner: recent calls by bucket, outcomes and texts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.activity import repository
from orchestrator.activity.repository import Window
from orchestrator.activity.schemas import ActivityQuery
from orchestrator.campaigns.service import require_campaign, sms_counters_of
from orchestrator.config import get_settings
from orchestrator.wire import iso

# A call is claimed shortly before it is sent: the window's lookback reaches this much
# further back than the longest call, for calls that waited for a rate slot.
CLAIM_SLACK = timedelta(minutes=5)


def window_for(query: ActivityQuery, *, now: datetime) -> Window:
    """Buckets aligned on their step, the last one holding ``now``."""
    step = query.bucket_seconds
    epoch = now.timestamp()
    end = datetime.fromtimestamp(epoch - epoch % step + step, tz=now.tzinfo)
    buckets = -(-query.minutes * 60 // step)
    start = end - timedelta(seconds=buckets * step)
    longest = timedelta(seconds=get_settings().max_call_seconds)
    return Window(start=start, step=step, buckets=buckets, lookback=start - longest - CLAIM_SLACK)


def campaign_activity(
    session: Session, *, org_id: uuid.UUID, campaign_id: str, query: ActivityQuery, now: datetime
) -> dict[str, Any]:
    campaign = require_campaign(session, org_id, campaign_id, lock=False)
    window = window_for(query, now=now)
    counts = repository.bucket_counts(session, campaign_id=campaign.id, window=window)
    changes = [dials - ends for dials, ends in zip(counts.dials, counts.ends, strict=True)]
    # Sends and ends stamped by different clocks can cross by a moment; never below zero.
    in_flight = [max(0, counts.in_flight_at_start + total) for total in accumulate(changes)]
    buckets = [
        {
            "at": iso(window.start + timedelta(seconds=index * window.step)),
            "dials": counts.dials[index],
            "ended": counts.ends[index],
            "inFlight": in_flight[index],
        }
        for index in range(window.buckets)
    ]
    activity: dict[str, Any] = {
        "campaignId": str(campaign.id),
        "bucketSeconds": window.step,
        "buckets": buckets,
        "inFlight": in_flight[-1],
    }
    if query.include_outcomes:
        activity["outcomes"] = repository.outcomes(session, campaign_id=campaign.id)
    texts = sms_counters_of(session, campaign)
    if texts is not None:
        activity["texts"] = texts
    return activity
