"""Queries for call attempts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, update
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


def count_in_flight(
    session: Session, *, org_id: uuid.UUID, campaign_id: uuid.UUID | None = None
) -> int:
    stmt = (
        select(func.count())
        .select_from(Call)
        .where(Call.org_id == org_id, Call.status.in_(IN_FLIGHT_CALL_STATUSES))
    )
    if campaign_id is not None:
        stmt = stmt.where(Call.campaign_id == campaign_id)
    return int(session.scalar(stmt) or 0)


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
