"""The scheduler's work for one campaign: claim due contacts within every limit.

Each campaign is dispatched in its own transaction. The caller commits, then enqueues one
``calls.place`` task per returned call id, so a task never sees a row that is not there.
"""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.campaigns.states import CampaignEvent, next_campaign_state
from orchestrator.contacts import repository as contacts_repo
from orchestrator.models import Call, CallStatus, Campaign, CampaignStatus, Org

CAMPAIGN_LOCK_SPACE = 1
ORG_LOCK_SPACE = 2


@dataclass
class DispatchResult:
    campaign_id: uuid.UUID
    call_ids: list[uuid.UUID] = field(default_factory=list)
    locked_out: bool = False
    finished: bool = False


def _lock_key(value: uuid.UUID) -> int:
    return zlib.crc32(value.bytes) - (1 << 31)


def try_lock_campaign(session: Session, *, campaign_id: uuid.UUID) -> bool:
    """Only one tick works on a campaign at a time; the others move on instead of waiting."""
    stmt = select(func.pg_try_advisory_xact_lock(CAMPAIGN_LOCK_SPACE, _lock_key(campaign_id)))
    return bool(session.scalar(stmt))


def lock_org_capacity(session: Session, *, org_id: uuid.UUID) -> None:
    """Serialises capacity decisions of one org's campaigns, so together they never overshoot."""
    session.execute(select(func.pg_advisory_xact_lock(ORG_LOCK_SPACE, _lock_key(org_id))))


def free_capacity(session: Session, *, campaign: Campaign, batch_limit: int) -> int:
    org = session.get(Org, campaign.org_id)
    org_limit = org.concurrency_limit if org is not None else 0
    org_busy = calls_repo.count_in_flight(session, org_id=campaign.org_id)
    campaign_busy = calls_repo.count_in_flight(
        session, org_id=campaign.org_id, campaign_id=campaign.id
    )
    return max(0, min(campaign.max_concurrency - campaign_busy, org_limit - org_busy, batch_limit))


def _start_if_scheduled(campaign: Campaign, now: datetime) -> None:
    if campaign.status == CampaignStatus.SCHEDULED:
        move = next_campaign_state(campaign.status, CampaignEvent.START)
        campaign.status = move.status
        campaign.started_at = now


def dispatch_campaign(
    session: Session, *, campaign_id: uuid.UUID, now: datetime, batch_limit: int
) -> DispatchResult:
    result = DispatchResult(campaign_id)
    if not try_lock_campaign(session, campaign_id=campaign_id):
        result.locked_out = True
        return result
    campaign = campaigns_repo.lock_campaign(session, campaign_id=campaign_id)
    if campaign is None or campaign.status not in campaigns_repo.ACTIVE_STATUSES:
        return result
    if campaign.earliest_at is not None and campaign.earliest_at > now:
        return result
    _start_if_scheduled(campaign, now)
    lock_org_capacity(session, org_id=campaign.org_id)
    capacity = free_capacity(session, campaign=campaign, batch_limit=batch_limit)
    contacts = contacts_repo.claim_due_contacts(
        session, campaign_id=campaign.id, now=now, limit=capacity
    )
    calls = [
        Call(
            id=uuid.uuid4(),
            org_id=campaign.org_id,
            campaign_id=campaign.id,
            contact_id=contact.id,
            attempt=contact.attempts + 1,
            status=CallStatus.CLAIMED,
            phone_number_id=contact.phone_number_id or campaign.phone_number_id,
            customer=contact.customer,
        )
        for contact in contacts
    ]
    calls_repo.add_calls(session, calls)
    contacts_repo.mark_dispatched(session, contact_ids=[c.id for c in contacts])
    campaigns_repo.bump_counters(
        session,
        campaign_id=campaign.id,
        calls_counter_scheduled=-len(calls),
        calls_counter_queued=len(calls),
        contacts_pending=-len(calls),
        contacts_dispatched=len(calls),
    )
    result.call_ids = [call.id for call in calls]
    result.finished = campaigns_repo.finish_if_done(session, campaign_id=campaign.id)
    return result
