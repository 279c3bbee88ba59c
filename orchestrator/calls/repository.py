"""Queries for call attempts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from orchestrator.models import Call, CallStatus
from orchestrator.models.base import utcnow
from orchestrator.models.enums import IN_FLIGHT_CALL_STATUSES


def add_calls(session: Session, calls: Sequence[Call]) -> None:
    session.add_all(calls)
    session.flush()


def get_call_for_update(session: Session, *, call_id: uuid.UUID) -> Call | None:
    return session.get(Call, call_id, with_for_update=True, populate_existing=True)


def find_by_provider_id_for_update(session: Session, *, provider_call_id: str) -> Call | None:
    stmt = select(Call).where(Call.provider_call_id == provider_call_id).with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).first()


def claim_for_dialing(session: Session, *, call_id: uuid.UUID) -> bool:
    """Compare-and-set ``claimed`` → ``dialing``: of two deliveries of one task, one wins."""
    result = session.execute(
        update(Call)
        .where(Call.id == call_id, Call.status == CallStatus.CLAIMED)
        .values(status=CallStatus.DIALING, dialed_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_dialing(session: Session, *, call_id: uuid.UUID) -> bool:
    """Undo a won compare-and-set whose call was not sent after all (it must wait longer)."""
    result = session.execute(
        update(Call)
        .where(Call.id == call_id, Call.status == CallStatus.DIALING)
        .values(status=CallStatus.CLAIMED, dialed_at=None, updated_at=utcnow())
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


def count_by_status(session: Session, *, campaign_id: uuid.UUID) -> dict[str, int]:
    rows = session.execute(
        select(Call.status, func.count())
        .where(Call.campaign_id == campaign_id)
        .group_by(Call.status)
    ).all()
    return {str(status): int(count) for status, count in rows}


def count_ended_with(session: Session, *, campaign_id: uuid.UUID, ended_reason: str) -> int:
    stmt = (
        select(func.count())
        .select_from(Call)
        .where(
            Call.campaign_id == campaign_id,
            Call.status == CallStatus.ENDED,
            Call.ended_reason == ended_reason,
        )
    )
    return int(session.scalar(stmt) or 0)


def in_flight_by_campaign_and_number(
    session: Session, *, org_id: uuid.UUID
) -> Sequence[Row[uuid.UUID | None, str | None, bool, int]]:
    """Every call of the org in flight, counted by campaign, caller number and claimed-or-not."""
    waiting = (Call.status == CallStatus.CLAIMED).label("waiting")
    stmt = (
        select(Call.campaign_id, Call.phone_number_id, waiting, func.count())
        .where(Call.org_id == org_id, Call.status.in_(IN_FLIGHT_CALL_STATUSES))
        .group_by(Call.campaign_id, Call.phone_number_id, waiting)
    )
    return session.execute(stmt).all()


def last_dial_by_number(
    session: Session, *, since: datetime
) -> Sequence[Row[uuid.UUID, str | None, datetime | None]]:
    """The latest dial of each (org, caller number) since ``since``: what the rate limits saw."""
    stmt = (
        select(Call.org_id, Call.phone_number_id, func.max(Call.dialed_at))
        .where(Call.dialed_at >= since)
        .group_by(Call.org_id, Call.phone_number_id)
    )
    return session.execute(stmt).all()


def dial_target(
    session: Session, *, call_id: uuid.UUID
) -> Row[CallStatus, uuid.UUID, str | None] | None:
    """What placing a call needs before it may take a rate slot: status, org, caller number."""
    stmt = select(Call.status, Call.org_id, Call.phone_number_id).where(Call.id == call_id)
    return session.execute(stmt).first()


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
