"""Why a campaign's contacts are waiting, and when it should finish at the current rates.

Shown on ``GET /campaign/{id}`` as the extension field ``pacing``. Waiting reasons:

* ``paused``: the campaign is paused;
* ``windowClosed``: before ``earliestAt`` or after ``latestAt``;
* ``callingHours``: the contact's local calling hours are closed;
* ``retryDelay``: the contact waits for its retry's not-before time;
* ``frequencyCap``: the contact waits until the org's frequency caps allow another attempt to
  its number;
* ``concurrency``: due now, but a concurrency limit (campaign, org or caller number) is full;
* ``rate``: due now, waiting for a caller number's calls-per-second slot;
* ``predialCheck``: due now, not cleared by the campaign's pre-dial check yet (being
  checked, or waiting for its turn among the campaign's checks).

``stuckCalls`` counts the calls holding capacity (of the org, of the campaign, of each of the
campaign's caller numbers) that have been in flight for longer than a call can last at the
provider (``max_call_seconds``): capacity held by calls the provider has most likely lost,
until the recovery sweep ends them.

A campaign that texts gets the same fields from ``text_insight``: what holds its texts back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.calls import lookup_repository
from orchestrator.calls import repository as calls_repo
from orchestrator.campaigns import counter_repository
from orchestrator.campaigns.counters import contacts_in
from orchestrator.config import get_settings
from orchestrator.contacts import repository as contacts_repo
from orchestrator.gate.decisions import FREQUENCY_CAP_DEFERRAL
from orchestrator.models import Campaign, CampaignCounters, CampaignStatus, ContactStatus, Org
from orchestrator.models.recipient_attempt import SMS_CHANNEL
from orchestrator.phone_numbers.service import pacing_of_caller_numbers
from orchestrator.predial import repository as predial_repository
from orchestrator.predial.plan import predial_plan_of
from orchestrator.scheduling.calling_hours.opening import is_open, next_open
from orchestrator.scheduling.capacity import CallerNumberPacing
from orchestrator.scheduling.policy import calling_hours_of
from orchestrator.scheduling.service import read_org_load
from orchestrator.scheduling.text_insight import text_pacing_insight
from orchestrator.wire import iso

# Until calls of the campaign have ended, a call is assumed to last this long.
ASSUMED_CALL_SECONDS = 60.0


@dataclass(frozen=True)
class Throughput:
    calls_per_second: float
    concurrency_bound: bool
    average_call_seconds: float | None


def _caller_pacing(
    session: Session, campaign: Campaign, org: Org
) -> dict[str | None, CallerNumberPacing]:
    caller_number_ids = campaign.caller_number_ids_to_dial()
    return pacing_of_caller_numbers(session, org_id=org.id, caller_number_ids=caller_number_ids)


def _throughput(session: Session, campaign: Campaign, org: Org) -> Throughput:
    """Sustainable calls per second: its caller numbers' rates, or concurrency / call length."""
    pacing = _caller_pacing(session, campaign, org)
    rate = sum(p.calls_per_second for p in pacing.values())
    average = calls_repo.average_call_seconds(session, campaign_id=campaign.id)
    concurrency = min(campaign.max_concurrency, org.concurrency_limit)
    by_concurrency = concurrency / max(average or ASSUMED_CALL_SECONDS, 1.0)
    return Throughput(min(rate, by_concurrency), by_concurrency < rate, average)


def _concurrency_full(session: Session, campaign: Campaign, org: Org) -> bool:
    load = read_org_load(session, org_id=org.id)
    if load.total >= org.concurrency_limit:
        return True
    if load.by_campaign[campaign.id] >= campaign.max_concurrency:
        return True
    pacing = _caller_pacing(session, campaign, org)
    return all(
        p.max_concurrency is not None
        and load.in_flight_by_caller[caller_number_id] >= p.max_concurrency
        for caller_number_id, p in pacing.items()
    )


def _window_closed(campaign: Campaign, now: datetime) -> bool:
    early = campaign.earliest_at is not None and campaign.earliest_at > now
    late = campaign.latest_at is not None and campaign.latest_at <= now
    return early or late


def _counters(session: Session, campaign: Campaign) -> CampaignCounters:
    return counter_repository.counters_of(session, campaign_ids=[campaign.id])[campaign.id]


def waiting_reasons(
    session: Session,
    *,
    campaign: Campaign,
    org: Org,
    now: datetime,
    counters: CampaignCounters | None = None,
) -> dict[str, int]:
    pending = contacts_in(counters or _counters(session, campaign), ContactStatus.PENDING)
    if pending == 0:
        return {}
    if campaign.status == CampaignStatus.PAUSED:
        return {"paused": pending}
    if _window_closed(campaign, now):
        return {"windowClosed": pending}
    hours = calling_hours_of(campaign, org)
    reasons: dict[str, int] = {}
    due_now = 0
    for zone_key, due, capped, count in contacts_repo.pending_by_zone_key(
        session, campaign_id=campaign.id, now=now, deferral=FREQUENCY_CAP_DEFERRAL
    ):
        if hours is not None and not is_open(hours, zone_key, now):
            reasons["callingHours"] = reasons.get("callingHours", 0) + count
        elif not due and capped:
            reasons["frequencyCap"] = reasons.get("frequencyCap", 0) + count
        elif not due:
            reasons["retryDelay"] = reasons.get("retryDelay", 0) + count
        else:
            due_now += count
    unchecked = _waiting_for_predial(session, campaign, now=now, due_now=due_now)
    if unchecked:
        reasons["predialCheck"] = unchecked
    if due_now > unchecked:
        key = "concurrency" if _concurrency_full(session, campaign, org) else "rate"
        reasons[key] = due_now - unchecked
    return reasons


def _waiting_for_predial(
    session: Session, campaign: Campaign, *, now: datetime, due_now: int
) -> int:
    """Of the contacts due now, those not cleared by a pre-dial check yet (being checked, or
    waiting for their turn): only cleared ones wait for capacity or a rate slot."""
    if not due_now or predial_plan_of(campaign) is None:
        return 0
    _, cleared = predial_repository.checks_and_cleared(session, campaign_id=campaign.id, now=now)
    return max(due_now - cleared, 0)


def _start_of_dialing(campaign: Campaign, org: Org, now: datetime) -> datetime | None:
    start = max(now, campaign.earliest_at or now)
    hours = calling_hours_of(campaign, org)
    if hours is None:
        return start
    openings = [next_open(hours, key, start) for key in campaign.contact_zone_keys or [""]]
    known = [moment for moment in openings if moment is not None]
    return min(known) if known else None


def estimated_finish(
    *,
    campaign: Campaign,
    org: Org,
    throughput: Throughput,
    now: datetime,
    counters: CampaignCounters,
) -> datetime | None:
    """A straight-line estimate: remaining contacts at the sustainable rate, from the next opening.

    Calling hours closing again and retries are not projected; the estimate is recomputed on
    every read, so it converges as the campaign runs.
    """
    if campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.IN_PROGRESS):
        return None
    start = _start_of_dialing(campaign, org, now)
    if start is None or throughput.calls_per_second <= 0:
        return None
    average = throughput.average_call_seconds
    pending = contacts_in(counters, ContactStatus.PENDING)
    seconds = pending / throughput.calls_per_second
    if pending or contacts_in(counters, ContactStatus.DISPATCHED):
        seconds += average or ASSUMED_CALL_SECONDS
    try:
        finish = start + timedelta(seconds=math.ceil(seconds))
    except OverflowError:  # a rate so slow the finish lies past the calendar
        return campaign.latest_at
    if campaign.latest_at is not None:
        finish = min(finish, campaign.latest_at)
    return finish


def stuck_calls(session: Session, *, campaign: Campaign, org: Org, now: datetime) -> dict[str, Any]:
    longest = get_settings().max_call_seconds
    stale = lookup_repository.stale_in_flight(
        session, org_id=org.id, since_before=now - timedelta(seconds=longest)
    )
    caller_number_ids = {
        caller_number_id
        for caller_number_id in campaign.caller_number_ids_to_dial()
        if caller_number_id is not None
    }
    by_caller: dict[str, int] = {}
    for _, caller_number_id, count in stale:
        if caller_number_id in caller_number_ids:
            by_caller[caller_number_id] = by_caller.get(caller_number_id, 0) + count
    return {
        "olderThanSeconds": longest,
        "org": sum(count for _, _, count in stale),
        "campaign": sum(count for owner, _, count in stale if owner == campaign.id),
        "phoneNumbers": by_caller,
    }


def pacing_insight(
    session: Session,
    *,
    campaign: Campaign,
    org: Org,
    now: datetime,
    counters: CampaignCounters | None = None,
) -> dict[str, Any]:
    counters = counters or _counters(session, campaign)
    if campaign.channel == SMS_CHANNEL:
        return text_pacing_insight(
            session,
            campaign=campaign,
            org=org,
            now=now,
            counters=counters,
            stuck_calls=stuck_calls(session, campaign=campaign, org=org, now=now),
        )
    throughput = _throughput(session, campaign, org)
    finish = estimated_finish(
        campaign=campaign, org=org, throughput=throughput, now=now, counters=counters
    )
    return {
        "waiting": waiting_reasons(session, campaign=campaign, org=org, now=now, counters=counters),
        "estimatedFinishAt": iso(finish),
        "sustainableCallsPerSecond": round(throughput.calls_per_second, 3),
        "limitedBy": "concurrency" if throughput.concurrency_bound else "rate",
        "stuckCalls": stuck_calls(session, campaign=campaign, org=org, now=now),
    }
