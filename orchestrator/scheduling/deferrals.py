"""Why due contacts the dispatch does not claim wait, recorded once per reason change.

Each costs the dispatch a bounded amount of work, whatever the size of the campaign:

* Calling hours: of each (caller number, zone key) group whose hours are closed, the front
  of its due queue, as many as the claim would take were it open (one range of
  ``ix_contacts_due``, the claim's own index), waits until the zone opens. After the first
  tick of a closure those contacts already wait for that reason and nothing is written.
* Capacity: candidates the dispatch read but did not claim wait for capacity. Which limit
  held them back (``capacity.held_back``: calls in flight, the org's, the campaign's or the
  caller number's, or the caller number's rate) is the decision's ``detail.limit``, not its
  reason: while calls in flight hover at a caller number's limit, the one that binds flips
  from tick to tick, and a contact at the head of the queue would collect a row per flip.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Select, String, literal, select, union_all
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from orchestrator.config import get_settings
from orchestrator.contacts import repository as contacts_repo
from orchestrator.contacts.repository import DueGroup
from orchestrator.decisions import repository as decisions_repo
from orchestrator.decisions.decision import Deferral, DeferralReason
from orchestrator.decisions.recording import record_each_deferral
from orchestrator.models import Campaign, Org
from orchestrator.scheduling.calling_hours.opening import next_open
from orchestrator.scheduling.calling_hours.schemas import CallingHoursIn
from orchestrator.scheduling.capacity import (
    CallerNumberRoom,
    CampaignDemand,
    Candidate,
    HeldBy,
    held_back,
)
from orchestrator.scheduling.policy import calling_hours_of


def defer_closed_hours(
    session: Session,
    *,
    campaigns: Sequence[Campaign],
    org: Org,
    open_keys: Mapping[uuid.UUID, Sequence[str]],
    now: datetime,
    batch_limit: int,
) -> int:
    """The due fronts of the campaigns' groups whose calling hours are closed wait until they
    open (one statement for them all); how many contacts were recorded."""
    fronts = [
        front
        for campaign in campaigns
        for front in _closed_fronts(campaign, org, open_keys[campaign.id], now, batch_limit)
    ]
    if not fronts:
        return 0
    return len(decisions_repo.defer(session, union_all(*fronts), now=now))


# When each closed (calling hours, zone key) next opens, and since when that answer holds: it
# holds until the opening itself, so a tick does not work it out again for every closed group
# (about a millisecond each) all night long.
_OPENINGS: dict[tuple[str, str], tuple[datetime, datetime]] = {}
_OPENINGS_KEPT = 4096


def _next_opening(hours: CallingHoursIn, key: str, now: datetime) -> datetime | None:
    cache_key = (hours.model_dump_json(), key)
    known = _OPENINGS.get(cache_key)
    if known is not None and known[0] <= now < known[1]:
        return known[1]
    opening = next_open(hours, key, now)
    if opening is not None:
        if len(_OPENINGS) >= _OPENINGS_KEPT:
            _OPENINGS.clear()
        _OPENINGS[cache_key] = (now, opening)
    return opening


def _closed_fronts(
    campaign: Campaign, org: Org, open_keys: Sequence[str], now: datetime, batch_limit: int
) -> list[Select[Any]]:
    """Per closed (caller number, zone key) group, as many of its first due contacts as the
    claim would take, as deferrals until the zone opens."""
    hours = calling_hours_of(campaign, org)
    closed = [key for key in campaign.contact_zone_keys or [""] if key not in open_keys]
    limit = min(campaign.max_concurrency, batch_limit)
    if hours is None or limit <= 0:
        return []
    fronts = []
    for key in closed:
        retry_at = literal(_next_opening(hours, key, now), DateTime(timezone=True))
        for caller_number_id in campaign.caller_number_ids_to_dial():
            group = DueGroup(caller_number_id, key, limit)
            rows = contacts_repo.due_in_group(campaign_id=campaign.id, group=group, now=now)
            front = rows.subquery()
            fronts.append(
                select(
                    front.c.id,
                    literal(DeferralReason.CALLING_HOURS.value, String).label("reason"),
                    retry_at.label("retry_at"),
                    literal({"zoneKey": key}, JSONB).label("detail"),
                )
            )
    return fronts


def defer_held_back(
    session: Session,
    demands: Sequence[CampaignDemand],
    chosen: Mapping[uuid.UUID, Sequence[Candidate]],
    *,
    org_free: int,
    org_binds: bool,
    room: CallerNumberRoom,
    now: datetime,
) -> int:
    """Contacts read but not claimed wait for capacity, each naming the limit that held it
    back (``demands`` are campaigns' only: their candidates are contacts); how many were
    recorded. Those only the dispatch's batch left are not: the next dispatch takes them."""
    held = held_back(
        demands,
        chosen,
        org_free=org_free,
        caller_number_free=room.allowances,
        caller_number_limits=room.limits,
        org_binds=org_binds,
    )
    if not held:
        return 0
    # A rate frees a slot by the next tick; calls in flight free one when a call ends.
    next_tick = now + timedelta(seconds=get_settings().tick_interval_seconds)
    deferrals = [
        Deferral(
            contact_id,
            DeferralReason.CAPACITY,
            next_tick if limit == HeldBy.PHONE_NUMBER_RATE else None,
            {"limit": limit.value},
        )
        for contact_id, limit in held.items()
    ]
    return len(record_each_deferral(session, deferrals, now=now))
