"""Which contacts of a campaign are asked now: part of the scheduler's dispatch of its org.

Due pending contacts not asked for their attempt yet, in due order, of the caller numbers
and calling-hours zones open now, and only as many as keep the campaign's checks under way
plus its cleared contacts waiting for a claim at most ``maxConcurrency``: the checks never
run far ahead of dialing, and never more than ``maxConcurrency`` at once per campaign (nor
more than ``ORCH_PREDIAL_MAX_CHECKS_PER_CAMPAIGN``: each waiting check holds a thread of
the outbound worker, so a dead server holds at most that many). The
cost is one count and one index range per (caller number, zone) over a few rows, whatever
the size of the campaign.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy.orm import Session

from orchestrator.config import get_settings
from orchestrator.contacts import repository as contacts_repo
from orchestrator.contacts.repository import DueGroup
from orchestrator.models import Campaign
from orchestrator.predial import repository
from orchestrator.predial.plan import PredialPlan

# How long a check may wait on the queue before it is given up and asked again; the task
# renews the lease when it starts (see ``service.begin_check``).
QUEUE_WAIT = timedelta(seconds=60)


class CheckToSend(NamedTuple):
    """One ``predial.check`` task: the contact and its lease, the check's token."""

    contact_id: uuid.UUID
    lease_until: datetime


def start_checks(
    session: Session,
    *,
    campaign: Campaign,
    plan: PredialPlan,
    zone_keys: list[str],
    now: datetime,
    batch_limit: int,
) -> list[CheckToSend]:
    """Mark the contacts to ask as being checked; the caller sends their tasks after commit."""
    checks, cleared = repository.checks_and_cleared(session, campaign_id=campaign.id, now=now)
    room = min(
        campaign.max_concurrency - checks - cleared,
        get_settings().predial_max_checks_per_campaign - checks,
        batch_limit,
    )
    if room <= 0:
        return []
    groups = [
        DueGroup(caller_number_id, zone_key, room)
        for caller_number_id in campaign.caller_number_ids_to_dial()
        for zone_key in zone_keys
    ]
    rows = contacts_repo.due_contacts(
        session, campaign_id=campaign.id, groups=groups, now=now, where=repository.unasked(now)
    )
    lease_until = now + QUEUE_WAIT + timedelta(seconds=plan.timeout_seconds)
    chosen = [contact_id for contact_id, *_ in rows[:room]]
    marked = set(repository.mark_checking(session, contact_ids=chosen, lease_until=lease_until))
    # In dial order: an UPDATE returns rows in whatever order its plan happens to read them.
    return [CheckToSend(contact_id, lease_until) for contact_id in chosen if contact_id in marked]
