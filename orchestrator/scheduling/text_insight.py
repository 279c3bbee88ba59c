"""The ``pacing`` insight of a campaign that texts (``channel: "sms"``), in the shape of a call
campaign's.

Texts hold no line, so no concurrency limit holds an sms campaign back: its contacts wait for
the campaign (``paused``, ``windowClosed``), their calling hours (``callingHours``), the
frequency caps (``frequencyCap``), a retry (``retryDelay``), or their caller number's
``messagesPerSecond`` (``rate``): due contacts not queued yet, and those whose text is queued
and due now, in line for a send slot. A queued text due later waits for the hours of its
contact's zone to open when they are closed, else for a cap's allowance (or, rarely, the
provider's ``Retry-After``). ``sustainableCallsPerSecond`` is the caller numbers' texts per
second; ``limitedBy`` is always ``rate``.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import contacts_in
from orchestrator.contacts import repository as contacts_repo
from orchestrator.gate.decisions import FREQUENCY_CAP_DEFERRAL
from orchestrator.models import (
    Campaign,
    CampaignCounters,
    CampaignStatus,
    Chat,
    Contact,
    ContactStatus,
    Org,
    TextStatus,
)
from orchestrator.scheduling.calling_hours.opening import is_open
from orchestrator.scheduling.policy import calling_hours_of
from orchestrator.texts.pending import TEXT_LOOKAHEAD_SECONDS, messages_per_second_of
from orchestrator.wire import iso


def texts_per_second(session: Session, *, campaign: Campaign, org: Org) -> float:
    callers = campaign.caller_number_ids_to_dial()
    rates = messages_per_second_of(session, org_id=org.id, caller_number_ids=callers)
    return sum(rates.values())


def _add(reasons: dict[str, int], reason: str, count: int) -> None:
    if count:
        reasons[reason] = reasons.get(reason, 0) + count


def _pending_reasons(
    session: Session, campaign: Campaign, org: Org, now: datetime, reasons: dict[str, int]
) -> None:
    hours = calling_hours_of(campaign, org)
    for zone_key, due, capped, count in contacts_repo.pending_by_zone_key(
        session, campaign_id=campaign.id, now=now, deferral=FREQUENCY_CAP_DEFERRAL
    ):
        if hours is not None and not is_open(hours, zone_key, now):
            _add(reasons, "callingHours", count)
        elif not due:
            _add(reasons, "frequencyCap" if capped else "retryDelay", count)
        else:
            _add(reasons, "rate", count)


def _queued_reasons(
    session: Session, campaign: Campaign, org: Org, now: datetime, reasons: dict[str, int]
) -> None:
    hours = calling_hours_of(campaign, org)
    later = (Chat.due_at > now + timedelta(seconds=TEXT_LOOKAHEAD_SECONDS)).label("later")
    stmt = (
        select(Contact.zone_key, later, func.count())
        .join(Contact, Contact.id == Chat.contact_id)
        .where(
            Chat.campaign_id == campaign.id,
            Chat.delivery_status.in_([TextStatus.QUEUED, TextStatus.SENDING]),
            Contact.status == ContactStatus.DISPATCHED,
        )
        .group_by(Contact.zone_key, later)
    )
    for zone_key, is_later, count in session.execute(stmt):
        if hours is not None and not is_open(hours, zone_key, now):
            _add(reasons, "callingHours", int(count))
        else:
            _add(reasons, "frequencyCap" if is_later else "rate", int(count))


def text_waiting_reasons(
    session: Session, *, campaign: Campaign, org: Org, now: datetime, counters: CampaignCounters
) -> dict[str, int]:
    """Contacts not texted yet (pending, or dispatched with their text unsent) by reason."""
    pending = contacts_in(counters, ContactStatus.PENDING)
    if campaign.status == CampaignStatus.PAUSED and pending:
        return {"paused": pending}
    reasons: dict[str, int] = {}
    early = campaign.earliest_at is not None and campaign.earliest_at > now
    late = campaign.latest_at is not None and campaign.latest_at <= now
    if pending and (early or late):
        reasons["windowClosed"] = pending
    elif pending:
        _pending_reasons(session, campaign, org, now, reasons)
    if contacts_in(counters, ContactStatus.DISPATCHED):
        _queued_reasons(session, campaign, org, now, reasons)
    return reasons


def text_estimated_finish(
    *, campaign: Campaign, rate: float, now: datetime, counters: CampaignCounters
) -> datetime | None:
    """Contacts not texted yet at the caller numbers' texts per second, from now (or the
    window's start); closed calling hours are not projected."""
    if campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.IN_PROGRESS):
        return None
    if rate <= 0:
        return None
    start = max(now, campaign.earliest_at or now)
    remaining = contacts_in(counters, ContactStatus.PENDING) + contacts_in(
        counters, ContactStatus.DISPATCHED
    )
    try:
        finish = start + timedelta(seconds=math.ceil(remaining / rate))
    except OverflowError:
        return campaign.latest_at
    if campaign.latest_at is not None:
        finish = min(finish, campaign.latest_at)
    return finish


def text_pacing_insight(
    session: Session,
    *,
    campaign: Campaign,
    org: Org,
    now: datetime,
    counters: CampaignCounters,
    stuck_calls: dict[str, Any],
) -> dict[str, Any]:
    rate = texts_per_second(session, campaign=campaign, org=org)
    finish = text_estimated_finish(campaign=campaign, rate=rate, now=now, counters=counters)
    return {
        "waiting": text_waiting_reasons(
            session, campaign=campaign, org=org, now=now, counters=counters
        ),
        "estimatedFinishAt": iso(finish),
        "sustainableCallsPerSecond": round(rate, 3),
        "limitedBy": "rate",
        "stuckCalls": stuck_calls,
    }
