"""Queries for call attempts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    String,
    Uuid,
    any_,
    bindparam,
    delete,
    false,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, defer

from orchestrator.calls.schemas import CallListQuery
from orchestrator.calls.states import CallEvent, call_event_move
from orchestrator.clock import utcnow
from orchestrator.listing import time_range_filters
from orchestrator.models import Call, CallStatus, Campaign, WebhookEvent
from orchestrator.models.enums import IN_FLIGHT_CALL_STATUSES
from orchestrator.sql import BulkUpdate, array_param, json_recordset, json_rows

# Statuses in which the provider has the call and we wait to hear how it goes.
PROVIDER_HELD_STATUSES = (
    CallStatus.QUEUED,
    CallStatus.RINGING,
    CallStatus.IN_PROGRESS,
    CallStatus.FORWARDING,
)


def add_calls(session: Session, calls: Sequence[Call]) -> None:
    session.add_all(calls)
    session.flush()


@dataclass(frozen=True)
class ClaimedCall:
    """A campaign contact's new attempt, as the dispatch claims it."""

    id: uuid.UUID
    org_id: uuid.UUID
    campaign_id: uuid.UUID
    contact_id: uuid.UUID
    attempt: int
    phone_number_id: str | None
    customer: dict[str, Any]


_CLAIMED_COLUMNS = (
    ("id", "uuid"),
    ("org_id", "uuid"),
    ("campaign_id", "uuid"),
    ("contact_id", "uuid"),
    ("attempt", "integer"),
    ("phone_number_id", "varchar"),
    ("customer", "jsonb"),
)
_INSERT_CLAIMED = text(
    f"""
    INSERT INTO calls (id, org_id, campaign_id, contact_id, attempt, status, phone_number_id,
                       customer, created_at, updated_at)
    SELECT v.id, v.org_id, v.campaign_id, v.contact_id, v.attempt, :status, v.phone_number_id,
           v.customer, :now, :now
    FROM {json_recordset("calls", _CLAIMED_COLUMNS)}
    """
)


def insert_claimed_calls(session: Session, calls: Sequence[ClaimedCall]) -> None:
    """The dispatch's new calls in one statement: the session's unit of work would cost more
    per row than the insert itself, and nothing reads them back as objects."""
    if not calls:
        return
    names = [name for name, _ in _CLAIMED_COLUMNS]
    params = {
        "status": CallStatus.CLAIMED.value,
        "now": utcnow(),
        "calls": json_rows(names, ([getattr(call, n) for n in names] for call in calls)),
    }
    with session.no_autoflush:
        session.execute(_INSERT_CLAIMED, params)


def get_call_for_update(session: Session, *, call_id: uuid.UUID) -> Call | None:
    return session.get(Call, call_id, with_for_update=True, populate_existing=True)


def lock_calls_by_ids(
    session: Session, *, provider_call_ids: Iterable[str], call_ids: Iterable[uuid.UUID]
) -> Sequence[Call]:
    """Calls with any of these provider ids or ids, locked in id order (no deadlock between
    two lockers of overlapping sets). What was sent to the provider is not loaded: applying
    its messages never reads it."""
    provider_ids, ids = sorted(set(provider_call_ids)), sorted(set(call_ids))
    if not provider_ids and not ids:
        return []
    stmt = (
        select(Call)
        .options(defer(Call.request), defer(Call.customer))
        .where(
            or_(
                Call.provider_call_id == any_(array_param("provider_ids", provider_ids, String)),
                Call.id == any_(array_param("ids", ids, Uuid)),
            )
        )
        .order_by(Call.id)
        .with_for_update()
    )
    return session.scalars(stmt.execution_options(populate_existing=True)).all()


# What applying provider messages changes on a call.
_CALL_STATE = BulkUpdate(
    "calls",
    [
        ("provider_call_id", "varchar"),
        ("status", "varchar"),
        ("ended_reason", "varchar"),
        ("started_at", "timestamptz"),
        ("ended_at", "timestamptz"),
        ("cost", "float8"),
        ("summary", "text"),
        ("analysis", "jsonb"),
    ],
)


def write_call_states(session: Session, calls: Sequence[Call], *, now: datetime) -> None:
    """Many changed calls written in one statement (their status, times, outcome)."""
    _CALL_STATE.write(session, calls, now=now)


# Built once: every placed call runs it, and building a statement costs more than running it.
_CLAIM_FOR_DIALING = (
    update(Call)
    .where(Call.id == bindparam("call_id"), Call.status == bindparam("source"))
    .values(status=bindparam("target"), dialed_at=bindparam("now"), updated_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)


def claim_for_dialing(session: Session, *, call_id: uuid.UUID) -> bool:
    """Compare-and-set ``claimed`` → ``dialing``: of two deliveries of one task, one wins."""
    source, target = call_event_move(CallEvent.DIAL)
    params = {"call_id": call_id, "source": source, "target": target, "now": utcnow()}
    result = session.execute(_CLAIM_FOR_DIALING, params)
    return bool(result.rowcount)  # type: ignore[attr-defined]


_CLAIM_MANY_FOR_DIALING = (
    update(Call)
    .where(Call.id == any_(array_param("call_ids", [], Uuid)), Call.status == bindparam("source"))
    .values(status=bindparam("target"), dialed_at=bindparam("now"), updated_at=bindparam("now"))
    .returning(Call.id)
    .execution_options(synchronize_session=False)
)


def claim_many_for_dialing(session: Session, *, call_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """``claim_for_dialing`` for many calls in one statement: the ids won, in id order."""
    if not call_ids:
        return []
    source, target = call_event_move(CallEvent.DIAL)
    params = {"call_ids": list(call_ids), "source": source, "target": target, "now": utcnow()}
    return sorted(session.scalars(_CLAIM_MANY_FOR_DIALING, params))


def lock_calls_for_dialing(session: Session, *, call_ids: Sequence[uuid.UUID]) -> Sequence[Call]:
    """The calls, locked in id order and read afresh (their requests are built from them)."""
    if not call_ids:
        return []
    stmt = (
        select(Call)
        .where(Call.id == any_(array_param("ids", sorted(call_ids), Uuid)))
        .order_by(Call.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).all()


def dial_targets(
    session: Session, *, call_ids: Sequence[uuid.UUID]
) -> Sequence[Row[uuid.UUID, CallStatus, uuid.UUID, str | None]]:
    """``dial_target`` of many calls: ``(id, status, org, caller number id)``, any order."""
    if not call_ids:
        return []
    stmt = select(Call.id, Call.status, Call.org_id, Call.phone_number_id).where(
        Call.id == any_(array_param("ids", list(call_ids), Uuid))
    )
    return session.execute(stmt).all()


def release_dialing(session: Session, *, call_id: uuid.UUID) -> bool:
    """Undo a won compare-and-set whose call was not sent after all (it must wait longer)."""
    source, target = call_event_move(CallEvent.RELEASE)
    result = session.execute(
        update(Call)
        .where(Call.id == call_id, Call.status == source)
        .values(status=target, dialed_at=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def defer_dialing_call(session: Session, *, call_id: uuid.UUID, until: datetime) -> bool:
    """A direct call won for dialing but held back before it was sent waits until ``until``."""
    source, target = call_event_move(CallEvent.DEFER)
    result = session.execute(
        update(Call)
        .where(Call.id == call_id, Call.status == source, Call.campaign_id.is_(None))
        .values(status=target, not_before=until, dialed_at=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def unsent_calls_for_update(session: Session, *, campaign_id: uuid.UUID) -> list[Call]:
    stmt = (
        select(Call)
        .where(Call.campaign_id == campaign_id, Call.status == CallStatus.CLAIMED)
        .with_for_update()
    )
    return list(session.scalars(stmt))


def in_flight_by_campaign_and_caller(
    session: Session, *, org_id: uuid.UUID
) -> Sequence[Row[uuid.UUID | None, str | None, bool, int]]:
    """Every call of the org in flight, counted by campaign, caller number id and claimed-or-not."""
    waiting = (Call.status == CallStatus.CLAIMED).label("waiting")
    stmt = (
        select(Call.campaign_id, Call.phone_number_id, waiting, func.count())
        .where(Call.org_id == org_id, Call.status.in_(IN_FLIGHT_CALL_STATUSES))
        .group_by(Call.campaign_id, Call.phone_number_id, waiting)
    )
    return session.execute(stmt).all()


def due_direct_caller_number_ids(
    session: Session, *, org_id: uuid.UUID, now: datetime
) -> list[str | None]:
    """Caller number ids with a direct call (``POST /call``) of the org waiting and due."""
    stmt = (
        select(Call.phone_number_id)
        .where(Call.org_id == org_id, Call.status == CallStatus.SCHEDULED, _due(now))
        .distinct()
    )
    return list(session.scalars(stmt))


def due_direct_calls(
    session: Session, *, org_id: uuid.UUID, limits: Mapping[str | None, int], now: datetime
) -> list[Call]:
    """The first due direct calls of each caller number, oldest first, at most its limit each.

    Calls without a not-before time come first, in arrival order, then those whose time has
    come, in time order: two index ranges per caller number, never a scan of calls scheduled later.
    """
    found: list[Call] = []
    for caller_number_id, limit in limits.items():
        if limit <= 0:
            continue
        mine = (
            Call.org_id == org_id,
            Call.status == CallStatus.SCHEDULED,
            Call.phone_number_id.is_(None)
            if caller_number_id is None
            else Call.phone_number_id == caller_number_id,
        )
        unscheduled = select(Call).where(*mine, Call.not_before.is_(None))
        found_here = list(session.scalars(unscheduled.order_by(Call.seq).limit(limit)))
        if len(found_here) < limit:
            timed = (
                select(Call)
                .where(*mine, Call.not_before <= now)
                .order_by(Call.not_before, Call.seq)
            )
            found_here += session.scalars(timed.limit(limit - len(found_here)))
        found.extend(found_here)
    return found


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(Call.not_before.is_(None), Call.not_before <= now) & or_(
        Call.not_after.is_(None), Call.not_after > now
    )


def claim_direct_calls(session: Session, *, call_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """``scheduled`` → ``claimed`` for those still scheduled (a delete may have come first)."""
    if not call_ids:
        return []
    source, target = call_event_move(CallEvent.CLAIM)
    result = session.execute(
        update(Call)
        .where(
            Call.id == any_(array_param("call_ids", list(call_ids), Uuid)), Call.status == source
        )
        .values(status=target, updated_at=utcnow())
        .returning(Call.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


def defer_direct_call(session: Session, *, call_id: uuid.UUID, until: datetime) -> None:
    """A direct call outside its customer's calling hours waits, off the due range, until then."""
    session.execute(
        update(Call)
        .where(Call.id == call_id, Call.status == CallStatus.SCHEDULED)
        .values(not_before=until, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


_DEFER_SCHEDULED = text(
    """
    UPDATE calls AS c SET not_before = v.until, updated_at = :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:untils AS timestamptz[])) AS v(id, until)
    WHERE c.id = v.id AND c.status = 'scheduled'
    """
)


def defer_direct_calls(
    session: Session, *, until_by_call: Mapping[uuid.UUID, datetime], now: datetime
) -> None:
    """Direct calls still waiting wait longer, each until its instant, in one statement."""
    if not until_by_call:
        return
    ids = list(until_by_call)
    params = {"ids": ids, "untils": [until_by_call[i] for i in ids], "now": now}
    session.execute(_DEFER_SCHEDULED, params)


def orgs_with_due_direct_calls(session: Session, *, now: datetime) -> list[uuid.UUID]:
    stmt = (
        select(Call.org_id)
        .where(Call.status == CallStatus.SCHEDULED, _due(now))
        .group_by(Call.org_id)
    )
    return list(session.scalars(stmt))


def expired_direct_calls_for_update(session: Session, *, now: datetime) -> list[Call]:
    """Direct calls still waiting when their ``schedulePlan.latestAt`` came."""
    stmt = (
        select(Call)
        .where(Call.status == CallStatus.SCHEDULED, Call.not_after <= now)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def dial_target(
    session: Session, *, call_id: uuid.UUID
) -> Row[CallStatus, uuid.UUID, str | None] | None:
    """What placing a call needs before it may take a rate slot: status, org, caller number id."""
    return session.execute(_DIAL_TARGET, {"call_id": call_id}).first()


_DIAL_TARGET = select(Call.status, Call.org_id, Call.phone_number_id).where(
    Call.id == bindparam("call_id")
)


def stale_claimed_call_ids(session: Session, *, before: datetime) -> list[uuid.UUID]:
    stmt = select(Call.id).where(Call.status == CallStatus.CLAIMED, Call.updated_at < before)
    return list(session.scalars(stmt.limit(1000)))


def average_call_seconds(session: Session, *, campaign_id: uuid.UUID) -> float | None:
    """Mean time from dial to end of the campaign's ended calls (None before the first ends)."""
    length = func.extract("epoch", Call.ended_at - Call.dialed_at)
    stmt = select(func.avg(length)).where(
        Call.campaign_id == campaign_id,
        Call.status == CallStatus.ENDED,
        Call.dialed_at.is_not(None),
        Call.ended_at.is_not(None),
    )
    value = session.scalar(stmt)
    return float(value) if value is not None else None


# --- Calls as the API shows them (``/call``): always scoped to the caller's org. ---------------


def _org_call_filters(org_id: uuid.UUID, query: CallListQuery) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = [Call.org_id == org_id]
    if query.id is not None:
        try:
            filters.append(Call.id == uuid.UUID(query.id))
        except ValueError:
            filters.append(false())
    if query.phone_number_id is not None:
        filters.append(Call.phone_number_id == query.phone_number_id)
    if query.assistant_id is not None:
        # A direct call names its assistant in its request; a campaign call through its campaign.
        campaigns_with_assistant = select(Campaign.id).where(
            Campaign.org_id == org_id, Campaign.assistant_id == query.assistant_id
        )
        filters.append(
            or_(
                Call.request["assistantId"].astext == query.assistant_id,
                Call.campaign_id.in_(campaigns_with_assistant),
            )
        )
    filters.extend(time_range_filters(Call, query))
    return filters


def list_calls_for_org(session: Session, *, org_id: uuid.UUID, query: CallListQuery) -> list[Call]:
    """The org's calls, campaign and direct, newest first."""
    stmt = (
        select(Call)
        .where(*_org_call_filters(org_id, query))
        .order_by(Call.created_at.desc(), Call.id.desc())
        .limit(query.limit)
    )
    return list(session.scalars(stmt))


def get_call_for_org(
    session: Session, *, org_id: uuid.UUID, call_id: uuid.UUID, for_update: bool = False
) -> Call | None:
    stmt = select(Call).where(Call.id == call_id, Call.org_id == org_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def campaigns_by_id(
    session: Session, *, campaign_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Campaign]:
    """The campaigns of some calls, to show what those calls run."""
    if not campaign_ids:
        return {}
    stmt = select(Campaign).where(Campaign.id.in_(campaign_ids))
    return {campaign.id: campaign for campaign in session.scalars(stmt)}


def delete_call(session: Session, call: Call) -> None:
    """Remove a call and the provider messages stored for it."""
    session.execute(delete(WebhookEvent).where(WebhookEvent.call_id == call.id))
    session.delete(call)
    session.flush()
