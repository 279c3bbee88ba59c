"""Queries for campaigns, always scoped to the caller's org."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, String, any_, distinct, func, select, update
from sqlalchemy.orm import Session

from orchestrator.calls.ended_reasons import person_answered_ended_reasons
from orchestrator.campaigns.counters import CONTACT_COUNTER
from orchestrator.campaigns.schemas import CampaignListQuery, SortOrder
from orchestrator.campaigns.states import CampaignEvent, next_campaign_state
from orchestrator.clock import utcnow
from orchestrator.contacts.states import OPEN_CONTACT_STATUSES
from orchestrator.events.recording import record_campaigns_ended
from orchestrator.listing import time_range_filters
from orchestrator.models import (
    Call,
    Campaign,
    CampaignStatus,
)
from orchestrator.sql import array_param

# A campaign whose life is not over (a paused one still has calls finishing and may resume).
ACTIVE_STATUSES = (CampaignStatus.SCHEDULED, CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED)
# A campaign the scheduler may dial for.
DIALABLE_STATUSES = (CampaignStatus.SCHEDULED, CampaignStatus.IN_PROGRESS)


def add_campaign(session: Session, campaign: Campaign) -> Campaign:
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(
    session: Session, *, org_id: uuid.UUID, campaign_id: uuid.UUID, for_update: bool = False
) -> Campaign | None:
    stmt = select(Campaign).where(
        Campaign.id == campaign_id,
        Campaign.org_id == org_id,
        Campaign.status != CampaignStatus.ARCHIVED,
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def lock_campaign(session: Session, *, campaign_id: uuid.UUID) -> Campaign | None:
    """Row lock for internal state changes (scheduler, webhooks), not scoped by org."""
    return session.get(Campaign, campaign_id, with_for_update=True, populate_existing=True)


def _list_filters(org_id: uuid.UUID, query: CampaignListQuery) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = [
        Campaign.org_id == org_id,
        Campaign.status != CampaignStatus.ARCHIVED,
    ]
    if query.id is not None:
        try:
            filters.append(Campaign.id == uuid.UUID(query.id))
        except ValueError:
            filters.append(Campaign.id.is_(None))
    if query.status is not None:
        filters.append(Campaign.status == query.status)
    filters.extend(time_range_filters(Campaign, query))
    return filters


def list_campaigns(
    session: Session, *, org_id: uuid.UUID, query: CampaignListQuery
) -> tuple[list[Campaign], int]:
    filters = _list_filters(org_id, query)
    total = session.scalar(select(func.count()).select_from(Campaign).where(*filters)) or 0
    order = Campaign.created_at.asc() if query.sort_order == SortOrder.ASC else None
    order = order if order is not None else Campaign.created_at.desc()
    stmt = (
        select(Campaign)
        .where(*filters)
        .order_by(order, Campaign.id)
        .offset((query.page - 1) * query.limit)
        .limit(query.limit)
    )
    return list(session.scalars(stmt)), int(total)


def calls_of_campaigns(session: Session, *, campaign_ids: Sequence[uuid.UUID]) -> list[Call]:
    if not campaign_ids:
        return []
    stmt = (
        select(Call)
        .where(Call.campaign_id.in_(campaign_ids), Call.provider_call_id.is_not(None))
        .order_by(Call.created_at)
    )
    return list(session.scalars(stmt))


def call_metrics(
    session: Session, *, campaign_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    """Each campaign's ``(dialed, connected)``, counted in contacts as Vapi counts them: those
    with a call the provider accepted (it has, or had, an id for it: claimed calls never sent
    and creates it refused are not), and those with a call a person answered. Under a retry
    plan a contact dialed three times counts once. Campaigns without calls are left out."""
    if not campaign_ids:
        return {}
    answered = array_param("answered", sorted(person_answered_ended_reasons()), String)
    stmt = (
        select(
            Call.campaign_id,
            func.count(distinct(Call.contact_id)).filter(Call.provider_call_id.is_not(None)),
            func.count(distinct(Call.contact_id)).filter(Call.ended_reason == any_(answered)),
        )
        .where(Call.campaign_id.in_(campaign_ids))
        .group_by(Call.campaign_id)
    )
    return {
        campaign_id: (int(dialed), int(connected))
        for campaign_id, dialed, connected in session.execute(stmt)
        if campaign_id is not None
    }


def campaigns_to_reconcile(
    session: Session, *, ended_since: datetime, after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    """Active campaigns and those ended since ``ended_since``, by id, a page after ``after``."""
    stmt = select(Campaign.id).where(
        Campaign.status.in_(ACTIVE_STATUSES) | (Campaign.ended_at >= ended_since)
    )
    if after is not None:
        stmt = stmt.where(Campaign.id > after)
    return list(session.scalars(stmt.order_by(Campaign.id).limit(limit)))


def _inside_window(now: datetime) -> list[ColumnElement[bool]]:
    return [
        Campaign.status.in_(DIALABLE_STATUSES),
        (Campaign.earliest_at.is_(None)) | (Campaign.earliest_at <= now),
        (Campaign.latest_at.is_(None)) | (Campaign.latest_at > now),
    ]


def due_org_ids(session: Session, *, now: datetime) -> list[uuid.UUID]:
    """Orgs with a campaign inside its schedule window: the tick dispatches each org at once."""
    stmt = select(Campaign.org_id).where(*_inside_window(now)).group_by(Campaign.org_id)
    return list(session.scalars(stmt))


def dialable_campaigns_for_update(
    session: Session, *, org_id: uuid.UUID, now: datetime
) -> list[Campaign]:
    """The org's campaigns inside their window, oldest first (the tie-break of fair sharing)."""
    stmt = (
        select(Campaign)
        .where(Campaign.org_id == org_id, *_inside_window(now))
        .order_by(Campaign.created_at, Campaign.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def campaigns_past_latest_at(session: Session, *, now: datetime) -> list[uuid.UUID]:
    """Campaigns whose window closed while they still had contacts or calls unsent."""
    stmt = select(Campaign.id).where(
        Campaign.status.in_(ACTIVE_STATUSES),
        Campaign.latest_at.is_not(None),
        Campaign.latest_at <= now,
    )
    return list(session.scalars(stmt))


def _finished(*where: ColumnElement[bool]) -> Select[uuid.UUID]:
    """Active campaigns with no contact pending or in flight, by their summed counters.

    Rows another transaction holds locked are skipped rather than waited for (a webhook never
    queues behind the scheduler or a user's request on the campaign row); the scheduler's
    sweep ends them at a later tick.
    """
    return (
        select(Campaign.id)
        .where(
            *where,
            Campaign.status.in_(ACTIVE_STATUSES),
            *(getattr(Campaign, CONTACT_COUNTER[status]) == 0 for status in OPEN_CONTACT_STATUSES),
        )
        .with_for_update(skip_locked=True, of=Campaign)
    )


def _still_done(session: Session, locked: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Of the campaigns just locked by ``_finished``, those done by a fresh read.

    A row updated and committed after ``_finished``'s statement began is rechecked by Postgres
    in its new version, but the counters' subqueries keep the statement's first snapshot: an
    append of customers committed in between (contacts, counters and campaign row together)
    would not be seen. This second statement reads after the locks are held, so it sees
    everything committed before them, and nothing can commit on these rows until we do.
    """
    if not locked:
        return []
    stmt = select(Campaign.id).where(
        Campaign.id.in_(locked),
        Campaign.status.in_(ACTIVE_STATUSES),
        *(getattr(Campaign, CONTACT_COUNTER[status]) == 0 for status in OPEN_CONTACT_STATUSES),
    )
    return sorted(session.scalars(stmt))


def _end_campaigns(session: Session, campaign_ids: Sequence[uuid.UUID]) -> None:
    move = next_campaign_state(CampaignStatus.IN_PROGRESS, CampaignEvent.COMPLETE)
    now = utcnow()
    session.execute(
        update(Campaign)
        .where(Campaign.id.in_(campaign_ids))
        .values(status=move.status, ended_reason=move.ended_reason, ended_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    assert move.ended_reason is not None
    record_campaigns_ended(session, campaign_ids=campaign_ids, ended_reason=move.ended_reason)


def finish_if_done(session: Session, *, campaign_id: uuid.UUID) -> bool:
    """End an active campaign once no contact is pending or in flight.

    Sees the counters as this transaction does: committed shards plus its own. Two
    transactions ending a campaign's last two calls at once each see the other's delta
    uncommitted, so neither ends it; ``finish_done_campaigns`` (every scheduler tick) does.
    """
    done = _still_done(session, list(session.scalars(_finished(Campaign.id == campaign_id))))
    if done:
        _end_campaigns(session, done)
    return bool(done)


def finish_done_campaigns(session: Session) -> list[uuid.UUID]:
    """End every active campaign whose summed counters say it is done (the tick's sweep).

    A paused campaign without contacts is not done: it was created to have its customers
    appended (``POST /campaign/{id}/customers``) before it is resumed, and ends once resumed
    if it still has none (or when its window closes)."""
    waiting = (Campaign.status == CampaignStatus.PAUSED) & (Campaign.contacts_total == 0)
    done = _still_done(session, list(session.scalars(_finished(~waiting).order_by(Campaign.id))))
    if done:
        _end_campaigns(session, done)
    return done


def active_campaigns(
    session: Session, *, limit: int
) -> tuple[list[tuple[uuid.UUID, uuid.UUID, str, str]], int]:
    """The latest ``limit`` campaigns not over yet (id, org, name, status), and how many there
    are in all (both read through the active campaigns' index)."""
    active = Campaign.status.in_(ACTIVE_STATUSES)
    rows = session.execute(
        select(Campaign.id, Campaign.org_id, Campaign.name, Campaign.status)
        .where(active)
        .order_by(Campaign.created_at.desc(), Campaign.id)
        .limit(limit)
    ).all()
    total = session.scalar(select(func.count()).select_from(Campaign).where(active)) or 0
    return [(row[0], row[1], row[2], str(row[3])) for row in rows], int(total)
