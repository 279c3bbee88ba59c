"""The scheduler's work for one org: claim due contacts within every limit, shared fairly.

Each org is dispatched in its own transaction under an advisory lock, so two ticks never
decide the same capacity twice. The caller commits, then enqueues one ``calls.place`` task
per returned call id, so a task never sees a row that is not there.
"""

from __future__ import annotations

import uuid
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.campaigns import counter_repository
from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.campaigns.counters import counter_deltas
from orchestrator.campaigns.states import CampaignEvent, next_campaign_state
from orchestrator.config import get_settings
from orchestrator.contacts import repository as contacts_repo
from orchestrator.contacts.repository import DueGroup
from orchestrator.models import Call, CallStatus, Campaign, CampaignStatus, ContactStatus, Org
from orchestrator.phone_numbers.service import pacing_of_numbers
from orchestrator.scheduling.calling_hours.opening import is_open
from orchestrator.scheduling.capacity import (
    CampaignDemand,
    Candidate,
    NumberLoad,
    allocate,
    number_allowance,
)
from orchestrator.scheduling.direct_dispatch import DIRECT_CALLS, direct_demand
from orchestrator.scheduling.policy import calling_hours_of

ORG_LOCK_SPACE = 2


@dataclass
class DispatchResult:
    org_id: uuid.UUID
    calls_by_campaign: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    # Direct calls (``POST /call``) claimed in this dispatch.
    direct_call_ids: list[uuid.UUID] = field(default_factory=list)
    locked_out: bool = False

    @property
    def call_ids(self) -> list[uuid.UUID]:
        campaign_calls = [call_id for ids in self.calls_by_campaign.values() for call_id in ids]
        return campaign_calls + self.direct_call_ids


@dataclass
class OrgLoad:
    """Calls in flight across the org, read once per dispatch."""

    total: int = 0
    by_campaign: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    direct: int = 0
    in_flight_by_number: dict[str | None, int] = field(default_factory=lambda: defaultdict(int))
    waiting_by_number: dict[str | None, int] = field(default_factory=lambda: defaultdict(int))

    def of_number(self, number: str | None) -> NumberLoad:
        return NumberLoad(self.in_flight_by_number[number], self.waiting_by_number[number])


def _lock_key(value: uuid.UUID) -> int:
    return zlib.crc32(value.bytes) - (1 << 31)


def try_lock_org(session: Session, *, org_id: uuid.UUID) -> bool:
    """One capacity decision per org at a time; a tick that finds it taken moves on."""
    stmt = select(func.pg_try_advisory_xact_lock(ORG_LOCK_SPACE, _lock_key(org_id)))
    return bool(session.scalar(stmt))


def read_org_load(session: Session, *, org_id: uuid.UUID) -> OrgLoad:
    load = OrgLoad()
    rows = calls_repo.in_flight_by_campaign_and_number(session, org_id=org_id)
    for campaign_id, number, waiting, count in rows:
        load.total += count
        load.in_flight_by_number[number] += count
        if campaign_id is not None:
            load.by_campaign[campaign_id] += count
        else:
            load.direct += count
        if waiting:
            load.waiting_by_number[number] += count
    return load


def _start_if_scheduled(campaign: Campaign, now: datetime) -> None:
    if campaign.status == CampaignStatus.SCHEDULED:
        move = next_campaign_state(campaign.status, CampaignEvent.START)
        campaign.status = move.status
        campaign.started_at = now


def open_zones(*, campaign: Campaign, org: Org, now: datetime) -> list[str]:
    """The campaign's zone keys whose calling hours are open now (all of them without hours)."""
    hours = calling_hours_of(campaign, org)
    zones = campaign.contact_timezones or [""]
    if hours is None:
        return list(zones)
    return [zone for zone in zones if is_open(hours, zone, now)]


def _campaign_demand(
    session: Session,
    *,
    campaign: Campaign,
    zones: list[str],
    load: OrgLoad,
    allowances: dict[str | None, int],
    now: datetime,
    batch_limit: int,
) -> CampaignDemand:
    in_flight = load.by_campaign[campaign.id]
    room = min(campaign.max_concurrency - in_flight, batch_limit)
    groups = [
        DueGroup(number, zone, min(room, allowances.get(number, 0)))
        for number in campaign.caller_numbers()
        for zone in zones
    ]
    rows = contacts_repo.due_contacts(session, campaign_id=campaign.id, groups=groups, now=now)
    return CampaignDemand(
        campaign_id=campaign.id,
        in_flight=in_flight,
        max_concurrency=campaign.max_concurrency,
        candidates=[Candidate(contact_id, number) for contact_id, number in rows],
    )


def _number_allowances(
    session: Session, *, org_id: uuid.UUID, numbers: set[str | None], load: OrgLoad
) -> dict[str | None, int]:
    ordered = sorted(numbers, key=lambda n: n or "")
    pacing = pacing_of_numbers(session, org_id=org_id, provider_ids=ordered)
    lookahead = get_settings().pacing_lookahead_seconds
    return {
        number: number_allowance(
            pacing[number], load.of_number(number), lookahead_seconds=lookahead
        )
        for number in ordered
    }


def claim_calls(
    session: Session, *, campaign: Campaign, candidates: list[Candidate]
) -> list[uuid.UUID]:
    """Pending contacts become dispatched with a ``claimed`` call each; counters move with them."""
    rows = contacts_repo.claim_contacts(session, contact_ids=[c.id for c in candidates])
    calls = [
        Call(
            id=uuid.uuid4(),
            org_id=campaign.org_id,
            campaign_id=campaign.id,
            contact_id=contact_id,
            attempt=attempt,
            status=CallStatus.CLAIMED,
            phone_number_id=number or campaign.phone_number_id,
            customer=customer,
        )
        for contact_id, _, attempt, number, customer in rows
    ]
    calls_repo.add_calls(session, calls)
    claimed = counter_deltas(
        contact_before=ContactStatus.PENDING,
        contact_after=ContactStatus.DISPATCHED,
        call_after=CallStatus.CLAIMED,
    )
    counter_repository.bump_counters(session, campaign_id=campaign.id, deltas=claimed * len(calls))
    return [call.id for call in calls]


def dispatch_org(
    session: Session, *, org_id: uuid.UUID, now: datetime, batch_limit: int
) -> DispatchResult:
    result = DispatchResult(org_id)
    if not try_lock_org(session, org_id=org_id):
        result.locked_out = True
        return result
    org = session.get(Org, org_id)
    campaigns = campaigns_repo.dialable_campaigns_for_update(session, org_id=org_id, now=now)
    direct_numbers = calls_repo.due_direct_call_numbers(session, org_id=org_id, now=now)
    if org is None or not (campaigns or direct_numbers):
        return result
    for campaign in campaigns:
        _start_if_scheduled(campaign, now)
    load = read_org_load(session, org_id=org_id)
    numbers = {n for c in campaigns for n in c.caller_numbers()} | set(direct_numbers)
    allowances = _number_allowances(session, org_id=org_id, numbers=numbers, load=load)
    org_free = min(org.concurrency_limit - load.total, batch_limit)
    if org_free <= 0:
        return result
    demands = [
        _campaign_demand(
            session,
            campaign=campaign,
            zones=open_zones(campaign=campaign, org=org, now=now),
            load=load,
            allowances=allowances,
            now=now,
            batch_limit=org_free,
        )
        for campaign in campaigns
    ]
    if direct_numbers:
        limits = {n: min(org_free, allowances[n]) for n in direct_numbers}
        demands.append(
            direct_demand(session, org=org, in_flight=load.direct, limits=limits, now=now)
        )
    chosen = allocate(demands, org_free=org_free, number_free=allowances)
    for campaign in campaigns:
        if chosen[campaign.id]:
            result.calls_by_campaign[campaign.id] = claim_calls(
                session, campaign=campaign, candidates=chosen[campaign.id]
            )
    direct = [candidate.id for candidate in chosen.get(DIRECT_CALLS, [])]
    result.direct_call_ids = calls_repo.claim_direct_calls(session, call_ids=direct)
    return result
