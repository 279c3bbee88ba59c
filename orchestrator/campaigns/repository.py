"""Queries for campaigns, always scoped to the caller's org."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ScalarSelect,
    Select,
    Table,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import InstrumentedAttribute, Session

from orchestrator.campaigns.schemas import CampaignListQuery, SortOrder
from orchestrator.campaigns.states import CampaignEvent, next_campaign_state
from orchestrator.clock import utcnow
from orchestrator.listing import time_range_filters
from orchestrator.models import (
    Call,
    CallStatus,
    Campaign,
    CampaignCounters,
    CampaignCounterShard,
    CampaignStatus,
    Contact,
)
from orchestrator.models.campaign_counter_shard import COUNTER_COLUMNS, COUNTER_SHARDS

# A campaign whose life is not over (a paused one still has calls finishing and may resume).
ACTIVE_STATUSES = (CampaignStatus.SCHEDULED, CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED)
# A campaign the scheduler may dial for.
DIALABLE_STATUSES = (CampaignStatus.SCHEDULED, CampaignStatus.IN_PROGRESS)
# Advisory lock space of reconciliation (two-key form; the scheduler's org locks use 2).
RECONCILE_LOCK_SPACE = 5


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


# The shard a transaction writes: its backend's pid modulo the shard count. Concurrent
# transactions run on different backends, so they spread over the shards; two of them share
# a row only when their pids agree modulo 16. It is also the same row for every bump of one
# transaction: a transaction holds at most one shard row of a campaign, so two transactions
# can never lock two shard rows in opposite orders (a random shard per bump could deadlock
# two transactions that each bump twice).
_THIS_TRANSACTIONS_SHARD = func.pg_backend_pid() % COUNTER_SHARDS


def _nonzero_deltas(deltas: dict[str, int]) -> dict[str, int]:
    for name in deltas:
        if name not in COUNTER_COLUMNS:
            raise KeyError(name)
    return {name: delta for name, delta in deltas.items() if delta}


def add_counter_shards(session: Session, *, campaign_id: uuid.UUID, **initial: int) -> None:
    """A new campaign's shard rows, all of them at once, ``initial`` values in shard 0.

    With every row already there, a bump is always the update branch of its upsert: it never
    inserts, so it never runs the foreign key's check, which would take a share lock on the
    campaign row (and wait for the scheduler holding that row ``FOR UPDATE``).
    """
    values = _nonzero_deltas(initial)
    rows = [
        {
            "campaign_id": campaign_id,
            "shard": shard,
            **{name: values.get(name, 0) if shard == 0 else 0 for name in COUNTER_COLUMNS},
        }
        for shard in range(COUNTER_SHARDS)
    ]
    session.execute(pg_insert(CampaignCounterShard).values(rows).on_conflict_do_nothing())


def bump_counters(session: Session, *, campaign_id: uuid.UUID, **deltas: int) -> None:
    """Move counters in the caller's transaction: one upsert adding the deltas to a shard row.

    Never a read-modify-write and never the campaign row, so webhooks of one campaign do not
    queue behind one row lock. Readers see the sums (``counters_of``). (A campaign without
    its shard rows, made around ``add_counter_shards``, still works: its first bump of each
    shard inserts the row.)
    """
    values = _nonzero_deltas(deltas)
    if not values:
        return
    # On the table, not the mapped class: a Core statement skips the ORM's bulk-insert path,
    # and this runs once per webhook that moves a counter.
    shards = cast(Table, CampaignCounterShard.__table__)
    stmt = pg_insert(shards).values(
        campaign_id=campaign_id, shard=_THIS_TRANSACTIONS_SHARD, **values
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[shards.c.campaign_id, shards.c.shard],
        set_={name: shards.c[name] + stmt.excluded[name] for name in values},
    )
    session.execute(stmt)


def _summed_columns() -> list[ColumnElement[Any]]:
    shards = CampaignCounterShard.__table__
    return [
        func.coalesce(func.sum(shards.c[name]), 0).cast(BigInteger).label(name)
        for name in COUNTER_COLUMNS
    ]


def counters_of(
    session: Session, *, campaign_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CampaignCounters]:
    """Every campaign's counters now, summed over its shards in one query (zeros if none)."""
    if not campaign_ids:
        return {}
    shards = CampaignCounterShard.__table__
    rows = session.execute(
        select(shards.c.campaign_id, *_summed_columns())
        .where(shards.c.campaign_id.in_(campaign_ids))
        .group_by(shards.c.campaign_id)
    )
    counters = dict.fromkeys(campaign_ids, CampaignCounters())
    for campaign_id, *sums in rows:
        counters[campaign_id] = CampaignCounters.from_values(sums)
    return counters


@dataclass(frozen=True)
class RowsAndCounters:
    """What reconciliation compares, read in one statement so both come from one snapshot."""

    contacts_by_status: dict[str, int]
    calls_by_status: dict[str, int]
    calls_ended_with_reason: int
    stored: CampaignCounters


def _count_json(
    column: InstrumentedAttribute[Any], *where: ColumnElement[bool]
) -> ScalarSelect[Any]:
    grouped = select(column.label("key"), func.count().label("n")).where(*where).group_by(column)
    counted = grouped.subquery()
    return select(func.jsonb_object_agg(counted.c.key, counted.c.n, type_=JSONB)).scalar_subquery()


def rows_and_counters(
    session: Session, *, campaign_id: uuid.UUID, ended_reason: str
) -> RowsAndCounters:
    """Contacts and calls by status, calls ended with ``ended_reason``, and the summed counters.

    One statement, hence one snapshot, even at READ COMMITTED: a transaction that changed rows
    and moved their counters is either wholly in it or wholly out of it.
    """
    shards = CampaignCounterShard.__table__
    sums = select(*_summed_columns()).where(shards.c.campaign_id == campaign_id).subquery()
    with_reason = (
        select(func.count())
        .select_from(Call)
        .where(
            Call.campaign_id == campaign_id,
            Call.status == CallStatus.ENDED,
            Call.ended_reason == ended_reason,
        )
        .scalar_subquery()
    )
    row = session.execute(
        select(
            _count_json(Contact.status, Contact.campaign_id == campaign_id),
            _count_json(Call.status, Call.campaign_id == campaign_id),
            with_reason,
            *sums.c,
        )
    ).one()
    contacts, calls, ended, *stored = row
    return RowsAndCounters(
        contacts_by_status={str(k): int(v) for k, v in (contacts or {}).items()},
        calls_by_status={str(k): int(v) for k, v in (calls or {}).items()},
        calls_ended_with_reason=int(ended or 0),
        stored=CampaignCounters.from_values(stored),
    )


def lock_counters_for_reconcile(session: Session, *, campaign_id: uuid.UUID) -> None:
    """One reconciliation of a campaign at a time (a transaction-level advisory lock).

    Only reconciliations take it: counter writers never wait for it. It must come before the
    snapshot reconciliation reads, which READ COMMITTED guarantees (each statement sees what
    committed before it began); at REPEATABLE READ the snapshot would predate the lock, and a
    second reconciliation could correct the same drift again, so that is refused.
    """
    key = zlib.crc32(campaign_id.bytes) - (1 << 31)
    isolation = session.execute(
        select(
            func.pg_advisory_xact_lock(RECONCILE_LOCK_SPACE, key),
            func.current_setting("transaction_isolation"),
        )
    ).one()[1]
    if isolation != "read committed":
        raise RuntimeError(f"reconciliation needs READ COMMITTED, not {isolation}")


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
            Campaign.contacts_pending == 0,
            Campaign.contacts_dispatched == 0,
        )
        .with_for_update(skip_locked=True, of=Campaign)
    )


def _end_campaigns(session: Session, campaign_ids: Sequence[uuid.UUID]) -> None:
    move = next_campaign_state(CampaignStatus.IN_PROGRESS, CampaignEvent.COMPLETE)
    now = utcnow()
    session.execute(
        update(Campaign)
        .where(Campaign.id.in_(campaign_ids))
        .values(status=move.status, ended_reason=move.ended_reason, ended_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def finish_if_done(session: Session, *, campaign_id: uuid.UUID) -> bool:
    """End an active campaign once no contact is pending or in flight.

    Sees the counters as this transaction does: committed shards plus its own. Two
    transactions ending a campaign's last two calls at once each see the other's delta
    uncommitted, so neither ends it; ``finish_done_campaigns`` (every scheduler tick) does.
    """
    done = list(session.scalars(_finished(Campaign.id == campaign_id)))
    if done:
        _end_campaigns(session, done)
    return bool(done)


def finish_done_campaigns(session: Session) -> list[uuid.UUID]:
    """End every active campaign whose summed counters say it is done (the tick's sweep)."""
    done = list(session.scalars(_finished().order_by(Campaign.id)))
    if done:
        _end_campaigns(session, done)
    return done
