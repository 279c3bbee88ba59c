"""Queries of the recovery sweep: which calls to ask the provider about now, and what it heard.

Claims take a transaction-scoped advisory lock, so two sweeps running at once (a slow one and
the next beat's) never ask about the same call: a claimed call's next lookup is pushed a lease
ahead, and each lookup's outcome then sets it for real.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import QueryableAttribute, Session

from orchestrator.calls.lookups import LookupState
from orchestrator.calls.repository import PROVIDER_HELD_STATUSES
from orchestrator.models import Call, CallLookup, CallStatus
from orchestrator.models.enums import IN_FLIGHT_CALL_STATUSES

# Any constant works; it only has to differ from the other advisory locks' keys.
CLAIM_LOCK_KEY = 0x6F7263_6C6B7570


@dataclass(frozen=True)
class SilentCall:
    call_id: uuid.UUID
    provider_call_id: str
    state: LookupState


@dataclass(frozen=True)
class UnknownCreate:
    call_id: uuid.UUID
    dialed_at: datetime
    phone_number_id: str | None
    state: LookupState


def _lock_claims(session: Session) -> None:
    session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK_KEY)))


def _claim(
    session: Session,
    *,
    columns: Sequence[QueryableAttribute[Any]],
    where: Sequence[ColumnElement[bool]],
    fresh: ColumnElement[bool],
    first_due: ColumnElement[Any],
    now: datetime,
    limit: int,
) -> list[tuple[Any, LookupState]]:
    """Due calls, longest overdue first, with what the sweep remembers of each: due at
    ``first_due`` while ``fresh`` (no row, or news since it was written), else at ``next_at``."""
    _lock_claims(session)
    due_at = case((fresh, first_due), else_=CallLookup.next_at)
    remembered = (CallLookup.failures, CallLookup.not_found_at, CallLookup.wait_seconds)
    stmt = (
        select(*columns, fresh.label("fresh"), *remembered)
        .outerjoin(CallLookup, CallLookup.call_id == Call.id)
        .where(*where, due_at <= now)
        .order_by(due_at, Call.id)
        .limit(limit)
    )
    claimed = []
    for row in session.execute(stmt).all():
        state = LookupState()
        if not row.fresh:
            state = LookupState(row.failures or 0, row.not_found_at, row.wait_seconds or 0.0)
        claimed.append((row, state))
    return claimed


def claim_silent_calls(
    session: Session, *, now: datetime, silence: timedelta, lease: timedelta, limit: int
) -> list[SilentCall]:
    """Calls the provider has that are due to be asked about, longest overdue first.

    Without a lookup row, or with news since the sweep last took the call, a call is due once
    it has been silent for ``silence``; otherwise at its row's ``next_at``. News resets what
    the sweep remembered (a call the provider reported on is not missing).
    """
    rows = _claim(
        session,
        columns=(Call.id, Call.provider_call_id),
        where=(Call.status.in_(PROVIDER_HELD_STATUSES), Call.provider_call_id.is_not(None)),
        fresh=or_(CallLookup.call_id.is_(None), Call.updated_at > CallLookup.checked_at),
        first_due=Call.updated_at + silence,
        now=now,
        limit=limit,
    )
    claimed = [SilentCall(row.id, str(row.provider_call_id), state) for row, state in rows]
    _lease(session, [(c.call_id, c.state) for c in claimed], now=now, lease=lease)
    return claimed


def claim_unknown_creates(
    session: Session, *, now: datetime, dialed_before: datetime, lease: timedelta, limit: int
) -> list[UnknownCreate]:
    """Calls whose create answer never came, once no request for them can still be under way
    (dialed before ``dialed_before``), then at their row's ``next_at``; oldest first."""
    rows = _claim(
        session,
        columns=(Call.id, Call.dialed_at, Call.phone_number_id),
        where=(Call.status == CallStatus.DIALING, Call.dialed_at.is_not(None)),
        # A row older than the call's latest dial belongs to an earlier attempt.
        fresh=or_(CallLookup.call_id.is_(None), CallLookup.checked_at < Call.dialed_at),
        first_due=Call.dialed_at + (now - dialed_before),
        now=now,
        limit=limit,
    )
    claimed = [
        UnknownCreate(row.id, row.dialed_at, row.phone_number_id, state) for row, state in rows
    ]
    _lease(session, [(c.call_id, c.state) for c in claimed], now=now, lease=lease)
    return claimed


def _lease(
    session: Session,
    claimed: Sequence[tuple[uuid.UUID, LookupState]],
    *,
    now: datetime,
    lease: timedelta,
) -> None:
    """Every claimed call kept from other runs until ``now + lease``, in one statement."""
    if not claimed:
        return
    rows = [
        {
            "call_id": call_id,
            "next_at": now + lease,
            "checked_at": now,
            "failures": state.failures,
            "not_found_at": state.not_found_at,
            "wait_seconds": state.wait_seconds,
        }
        for call_id, state in claimed
    ]
    stmt = insert(CallLookup).values(rows)
    kept = ("next_at", "checked_at", "failures", "not_found_at", "wait_seconds")
    changes = {name: stmt.excluded[name] for name in kept}
    session.execute(stmt.on_conflict_do_update(index_elements=["call_id"], set_=changes))


def save_lookup(
    session: Session,
    *,
    call_id: uuid.UUID,
    state: LookupState,
    next_at: datetime,
    checked_at: datetime | None = None,
    error: str | None = None,
) -> None:
    values = {
        "call_id": call_id,
        "next_at": next_at,
        "failures": state.failures,
        "not_found_at": state.not_found_at,
        "wait_seconds": state.wait_seconds,
        "last_error": error,
    }
    changes = dict(values)
    del changes["call_id"]
    if checked_at is not None:
        values["checked_at"] = changes["checked_at"] = checked_at
    else:
        values["checked_at"] = next_at
    stmt = insert(CallLookup).values(**values)
    session.execute(stmt.on_conflict_do_update(index_elements=["call_id"], set_=changes))


def release_claims(session: Session, *, call_ids: Sequence[uuid.UUID], now: datetime) -> None:
    """Claimed calls the sweep did not get to ask about: due again at once."""
    if call_ids:
        session.execute(
            update(CallLookup)
            .where(CallLookup.call_id.in_(call_ids))
            .values(next_at=now)
            .execution_options(synchronize_session=False)
        )


def delete_lookup(session: Session, *, call_id: uuid.UUID) -> None:
    session.execute(delete(CallLookup).where(CallLookup.call_id == call_id))


def delete_settled_lookups(session: Session, *, limit: int = 1000) -> int:
    """Rows of calls that have ended since (by a webhook): nothing more to ask about them."""
    settled = (
        select(CallLookup.call_id)
        .join(Call, Call.id == CallLookup.call_id)
        .where(Call.status.not_in(IN_FLIGHT_CALL_STATUSES))
        .limit(limit)
    )
    result = session.execute(delete(CallLookup).where(CallLookup.call_id.in_(settled)))
    return int(result.rowcount)  # type: ignore[attr-defined]


def make_provider_held_calls_due(session: Session, *, now: datetime) -> int:
    """Every call the provider has: asked about at the next sweep, whatever it heard before."""
    moment = literal(now, DateTime(timezone=True))
    held = select(Call.id, moment, moment, literal(0), literal(0.0)).where(
        Call.status.in_(PROVIDER_HELD_STATUSES), Call.provider_call_id.is_not(None)
    )
    stmt = insert(CallLookup).from_select(
        ["call_id", "next_at", "checked_at", "failures", "wait_seconds"], held
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["call_id"],
        set_={"next_at": stmt.excluded.next_at, "checked_at": stmt.excluded.checked_at},
    )
    return len(session.execute(stmt.returning(CallLookup.call_id)).all())


def stale_in_flight(
    session: Session, *, since_before: datetime, org_id: uuid.UUID | None = None
) -> list[tuple[uuid.UUID | None, str | None, int]]:
    """Calls in flight since before ``since_before`` (of one org, or of every org), by
    campaign and caller number id."""
    filters = [Call.status.in_(IN_FLIGHT_CALL_STATUSES), _in_flight_since() < since_before]
    if org_id is not None:
        filters.append(Call.org_id == org_id)
    stmt = (
        select(Call.campaign_id, Call.phone_number_id, func.count())
        .where(*filters)
        .group_by(Call.campaign_id, Call.phone_number_id)
    )
    rows = session.execute(stmt).all()
    return [(campaign, caller_number_id, int(count)) for campaign, caller_number_id, count in rows]


def _in_flight_since() -> ColumnElement[datetime]:
    """When a call in flight took its capacity: its dial, or its claim if not sent yet."""
    return func.coalesce(Call.dialed_at, Call.created_at)


def in_flight_by_age(session: Session, *, now: datetime, bounds: Sequence[float]) -> dict[int, int]:
    """Calls in flight (every org), counted by age bucket: bucket i holds ages below
    ``bounds[i]`` seconds (and at least ``bounds[i-1]``); the last, the rest."""
    age = func.extract("epoch", now - _in_flight_since())
    bucket = case(*[(age < bound, index) for index, bound in enumerate(bounds)], else_=len(bounds))
    stmt = (
        select(bucket, func.count())
        .where(Call.status.in_(IN_FLIGHT_CALL_STATUSES))
        .group_by(bucket)
    )
    return {int(index): int(n) for index, n in session.execute(stmt).all()}


def in_flight_by_caller(session: Session) -> list[tuple[uuid.UUID, str | None, int]]:
    """Calls in flight (every org) by (org, caller number), most first: the in-flight
    caller index's groups, one pass over the calls in flight only."""
    n = func.count()
    stmt = (
        select(Call.org_id, Call.phone_number_id, n)
        .where(Call.status.in_(IN_FLIGHT_CALL_STATUSES))
        .group_by(Call.org_id, Call.phone_number_id)
        .order_by(n.desc(), Call.org_id, Call.phone_number_id)
    )
    return [(org_id, number, int(count)) for org_id, number, count in session.execute(stmt).all()]
