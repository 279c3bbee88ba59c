"""The scheduler's work for one org: claim due contacts within every limit, shared fairly.

Each org is dispatched in its own transaction under an advisory lock, so two ticks never
decide the same capacity twice. The caller commits, then enqueues one ``calls.place`` task
per returned call id, so a task never sees a row that is not there.
"""

from __future__ import annotations

import uuid
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.repository import ClaimedCall
from orchestrator.campaigns import counter_repository
from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.campaigns.counters import counter_deltas
from orchestrator.campaigns.states import CampaignEvent, next_campaign_state
from orchestrator.config import get_settings
from orchestrator.contacts import repository as contacts_repo
from orchestrator.contacts.repository import DueGroup
from orchestrator.decisions.recording import claim_decisions, record_decisions
from orchestrator.events.recording import (
    ContactChange,
    record_campaign_change,
    record_contact_changes,
)
from orchestrator.gate.decisions import Prospect
from orchestrator.models import CallStatus, Campaign, CampaignStatus, ContactStatus, Org
from orchestrator.models.recipient_attempt import SMS_CHANNEL
from orchestrator.phone_numbers.service import pacing_of_caller_numbers
from orchestrator.predial import repository as predial_repo
from orchestrator.predial.plan import predial_plan_of
from orchestrator.predial.selection import CheckToSend, start_checks
from orchestrator.scheduling.calling_hours.opening import is_open
from orchestrator.scheduling.capacity import (
    CallerNumberLoad,
    CallerNumberRoom,
    CampaignDemand,
    Candidate,
    allocate,
    caller_number_allowance,
    caller_number_limit,
)
from orchestrator.scheduling.claim_gate import campaign_prospects, pass_claim_gate
from orchestrator.scheduling.deferrals import defer_closed_hours, defer_held_back
from orchestrator.scheduling.direct_dispatch import DIRECT_CALLS, direct_demand
from orchestrator.scheduling.policy import calling_hours_of
from orchestrator.scheduling.text_dispatch import dispatch_texts

ORG_LOCK_SPACE = 2


@dataclass
class DispatchResult:
    org_id: uuid.UUID
    calls_by_campaign: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    # Direct calls (``POST /call``) claimed in this dispatch.
    direct_call_ids: list[uuid.UUID] = field(default_factory=list)
    # Pre-dial checks started in this dispatch: one ``predial.check`` task each.
    checks: list[CheckToSend] = field(default_factory=list)
    # Texts of sms campaigns queued in this dispatch: one ``texts.send`` task each.
    text_ids: list[uuid.UUID] = field(default_factory=list)
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
    in_flight_by_caller: dict[str | None, int] = field(default_factory=lambda: defaultdict(int))
    waiting_by_caller: dict[str | None, int] = field(default_factory=lambda: defaultdict(int))

    def of_caller(self, caller_number_id: str | None) -> CallerNumberLoad:
        return CallerNumberLoad(
            self.in_flight_by_caller[caller_number_id], self.waiting_by_caller[caller_number_id]
        )


def _lock_key(value: uuid.UUID) -> int:
    return zlib.crc32(value.bytes) - (1 << 31)


def try_lock_org(session: Session, *, org_id: uuid.UUID) -> bool:
    """One capacity decision per org at a time; a tick that finds it taken moves on."""
    stmt = select(func.pg_try_advisory_xact_lock(ORG_LOCK_SPACE, _lock_key(org_id)))
    return bool(session.scalar(stmt))


def read_org_load(session: Session, *, org_id: uuid.UUID) -> OrgLoad:
    load = OrgLoad()
    rows = calls_repo.in_flight_by_campaign_and_caller(session, org_id=org_id)
    for campaign_id, caller_number_id, waiting, count in rows:
        load.total += count
        load.in_flight_by_caller[caller_number_id] += count
        if campaign_id is not None:
            load.by_campaign[campaign_id] += count
        else:
            load.direct += count
        if waiting:
            load.waiting_by_caller[caller_number_id] += count
    return load


def _start_if_scheduled(session: Session, campaign: Campaign, now: datetime) -> None:
    if campaign.status == CampaignStatus.SCHEDULED:
        move = next_campaign_state(campaign.status, CampaignEvent.START)
        record_campaign_change(
            session, campaign_id=campaign.id, before=campaign.status, after=move.status
        )
        campaign.status = move.status
        campaign.started_at = now


def open_zone_keys(*, campaign: Campaign, org: Org, now: datetime) -> list[str]:
    """The campaign's zone keys whose calling hours are open now (all of them without hours)."""
    hours = calling_hours_of(campaign, org)
    zone_keys = campaign.contact_zone_keys or [""]
    if hours is None:
        return list(zone_keys)
    return [key for key in zone_keys if is_open(hours, key, now)]


# How many due contacts a campaign's dispatch reads, per contact it has room to claim.
DUE_READ_FACTOR = 2


def _campaign_demand(
    session: Session,
    *,
    campaign: Campaign,
    org: Org,
    zone_keys: list[str],
    load: OrgLoad,
    allowances: dict[str | None, int],
    now: datetime,
    batch_limit: int,
) -> tuple[CampaignDemand, list[Prospect]]:
    """The campaign's due contacts as candidates, and as the gate sees them."""
    in_flight = load.by_campaign[campaign.id]
    room = min(campaign.max_concurrency - in_flight, batch_limit)
    groups = [
        DueGroup(caller_number_id, zone_key, min(room, allowances.get(caller_number_id, 0)))
        for caller_number_id in campaign.caller_number_ids_to_dial()
        for zone_key in zone_keys
    ]
    # With pre-dial checks only contacts cleared for this attempt may be claimed.
    where = predial_repo.cleared(now) if predial_plan_of(campaign) is not None else []
    # The first ones in due order are all a dispatch can claim, bar those of a number whose
    # allowance they exceed: twice the room leaves space for those, where reading every
    # group's full share would read (and defer) the room again for each number and zone.
    rows = contacts_repo.due_contacts(
        session,
        campaign_id=campaign.id,
        groups=groups,
        now=now,
        where=where,
        limit=DUE_READ_FACTOR * room,
    )
    prospects = campaign_prospects(campaign, org, rows)
    demand = CampaignDemand(
        campaign_id=campaign.id,
        in_flight=in_flight,
        max_concurrency=campaign.max_concurrency,
        candidates=[
            Candidate(contact_id, caller_number_id, prospect.number)
            for (contact_id, caller_number_id, _, _), prospect in zip(rows, prospects, strict=True)
        ],
    )
    return demand, prospects


def _caller_number_ids_of(
    campaigns: Sequence[Campaign], direct_caller_number_ids: Sequence[str | None]
) -> set[str | None]:
    """Every caller number id the dispatch may dial from: its campaigns' and its direct calls'."""
    of_campaigns = {
        caller_number_id
        for campaign in campaigns
        for caller_number_id in campaign.caller_number_ids_to_dial()
    }
    return of_campaigns | set(direct_caller_number_ids)


def _caller_number_room(
    session: Session, *, org_id: uuid.UUID, caller_number_ids: set[str | None], load: OrgLoad
) -> CallerNumberRoom:
    ordered = sorted(caller_number_ids, key=lambda caller_number_id: caller_number_id or "")
    pacing = pacing_of_caller_numbers(session, org_id=org_id, caller_number_ids=ordered)
    lookahead = get_settings().pacing_lookahead_seconds
    room = CallerNumberRoom({}, {})
    for caller_number_id in ordered:
        of_caller = (pacing[caller_number_id], load.of_caller(caller_number_id))
        room.allowances[caller_number_id] = caller_number_allowance(
            *of_caller, lookahead_seconds=lookahead
        )
        room.limits[caller_number_id] = caller_number_limit(*of_caller, lookahead_seconds=lookahead)
    return room


def claim_calls(
    session: Session, *, campaign: Campaign, candidates: list[Candidate]
) -> list[uuid.UUID]:
    """Pending contacts become dispatched with a ``claimed`` call each; counters move with them."""
    rows = contacts_repo.claim_contacts(session, contact_ids=[c.id for c in candidates])
    calls = [
        ClaimedCall(
            id=uuid.uuid4(),
            org_id=campaign.org_id,
            campaign_id=campaign.id,
            contact_id=contact_id,
            attempt=attempt,
            phone_number_id=caller_number_id or campaign.phone_number_id,
            customer=customer,
        )
        for contact_id, _, attempt, caller_number_id, customer in rows
    ]
    calls_repo.insert_claimed_calls(session, calls)
    record_decisions(session, claim_decisions(calls))
    record_contact_changes(
        session,
        (
            ContactChange(contact_id, campaign.id, ContactStatus.PENDING, ContactStatus.DISPATCHED)
            for contact_id, *_ in rows
        ),
    )
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
    """Claim the org's due contacts and direct calls, then start the pre-dial checks due.

    The checks come after the claims: contacts cleared since the last dispatch are claimed
    first, and the room their claim frees goes to new checks in the same transaction.
    """
    result = DispatchResult(org_id)
    if not try_lock_org(session, org_id=org_id):
        result.locked_out = True
        return result
    org = session.get(Org, org_id)
    campaigns = campaigns_repo.dialable_campaigns_for_update(session, org_id=org_id, now=now)
    direct_caller_number_ids = calls_repo.due_direct_caller_number_ids(
        session, org_id=org_id, now=now
    )
    if org is None or not (campaigns or direct_caller_number_ids):
        return result
    for campaign in campaigns:
        _start_if_scheduled(session, campaign, now)
    zone_keys = {c.id: open_zone_keys(campaign=c, org=org, now=now) for c in campaigns}
    defer_closed_hours(
        session, campaigns=campaigns, org=org, open_keys=zone_keys, now=now, batch_limit=batch_limit
    )
    # Texts hold no line: they are claimed apart from the calls, bounded by their own rate.
    texting = [c for c in campaigns if c.channel == SMS_CHANNEL]
    calling = [c for c in campaigns if c.channel != SMS_CHANNEL]
    result.text_ids = dispatch_texts(
        session,
        org=org,
        campaigns=texting,
        zone_keys=zone_keys,
        now=now,
        batch_limit=batch_limit,
    )
    _claim(
        session,
        result,
        org=org,
        campaigns=calling,
        zone_keys=zone_keys,
        direct_caller_number_ids=direct_caller_number_ids,
        now=now,
        batch_limit=batch_limit,
    )
    for campaign in calling:
        plan = predial_plan_of(campaign)
        if plan is not None:
            result.checks += start_checks(
                session,
                campaign=campaign,
                plan=plan,
                zone_keys=zone_keys[campaign.id],
                now=now,
                batch_limit=batch_limit,
            )
    return result


def _demands(
    session: Session,
    *,
    org: Org,
    campaigns: Sequence[Campaign],
    zone_keys: dict[uuid.UUID, list[str]],
    direct_caller_number_ids: Sequence[str | None],
    load: OrgLoad,
    allowances: dict[str | None, int],
    now: datetime,
    org_free: int,
) -> tuple[list[CampaignDemand], list[Prospect]]:
    """Each claimant's candidates (its campaigns', then its direct calls'), and who they call."""
    demands: list[CampaignDemand] = []
    prospects: list[Prospect] = []
    for campaign in campaigns:
        demand, found = _campaign_demand(
            session,
            campaign=campaign,
            org=org,
            zone_keys=zone_keys[campaign.id],
            load=load,
            allowances=allowances,
            now=now,
            batch_limit=org_free,
        )
        demands.append(demand)
        prospects += found
    if direct_caller_number_ids:
        limits = {
            caller_number_id: min(org_free, allowances[caller_number_id])
            for caller_number_id in direct_caller_number_ids
        }
        demand, found = direct_demand(
            session, org=org, in_flight=load.direct, limits=limits, now=now
        )
        demands.append(demand)
        prospects += found
    return demands, prospects


def _claim(
    session: Session,
    result: DispatchResult,
    *,
    org: Org,
    campaigns: Sequence[Campaign],
    zone_keys: dict[uuid.UUID, list[str]],
    direct_caller_number_ids: Sequence[str | None],
    now: datetime,
    batch_limit: int,
) -> None:
    load = read_org_load(session, org_id=org.id)
    caller_number_ids = _caller_number_ids_of(campaigns, direct_caller_number_ids)
    room = _caller_number_room(
        session, org_id=org.id, caller_number_ids=caller_number_ids, load=load
    )
    allowances = room.allowances
    org_room = org.concurrency_limit - load.total
    org_free = min(org_room, batch_limit)
    if org_free <= 0:
        return
    demands, prospects = _demands(
        session,
        org=org,
        campaigns=campaigns,
        zone_keys=zone_keys,
        direct_caller_number_ids=direct_caller_number_ids,
        load=load,
        allowances=allowances,
        now=now,
        org_free=org_free,
    )
    demands, attempts_left = pass_claim_gate(
        session, org=org, demands=demands, prospects=prospects, now=now
    )
    chosen = allocate(
        demands, org_free=org_free, caller_number_free=allowances, recipient_free=attempts_left
    )
    # Campaigns' demands only: the direct calls' candidates are calls, not contacts.
    campaign_demands = demands[: len(campaigns)]
    defer_held_back(
        session,
        campaign_demands,
        chosen,
        org_free=org_free,
        org_binds=org_room <= batch_limit,
        room=room,
        now=now,
    )
    for campaign in campaigns:
        if chosen[campaign.id]:
            result.calls_by_campaign[campaign.id] = claim_calls(
                session, campaign=campaign, candidates=chosen[campaign.id]
            )
    direct = [candidate.id for candidate in chosen.get(DIRECT_CALLS, [])]
    result.direct_call_ids = calls_repo.claim_direct_calls(session, call_ids=direct)
