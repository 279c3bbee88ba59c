"""Queries for caller phone numbers and their pacing, scoped to the org."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.models import PhoneNumber


def ensure_phone_numbers(
    session: Session, *, org_id: uuid.UUID, provider_ids: Sequence[str]
) -> None:
    """A row for each caller number the org uses; a new one has no pacing, so defaults apply."""
    if not provider_ids:
        return
    rows = [
        {"org_id": org_id, "provider_phone_number_id": pid, "id": uuid.uuid4()}
        for pid in provider_ids
    ]
    stmt = (
        pg_insert(PhoneNumber)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["org_id", "provider_phone_number_id"])
    )
    session.execute(stmt)


def upsert_pacing(
    session: Session,
    *,
    org_id: uuid.UUID,
    provider_id: str,
    calls_per_second: float,
    max_concurrency: int | None,
    messages_per_second: float | None = None,
) -> PhoneNumber:
    now = utcnow()
    values = {
        "calls_per_second": calls_per_second,
        "max_concurrency": max_concurrency,
        "messages_per_second": messages_per_second,
    }
    stmt = (
        pg_insert(PhoneNumber)
        .values(id=uuid.uuid4(), org_id=org_id, provider_phone_number_id=provider_id, **values)
        .on_conflict_do_update(
            index_elements=["org_id", "provider_phone_number_id"],
            set_={**values, "updated_at": now},
        )
        .returning(PhoneNumber)
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).one()


def get_phone_number(
    session: Session, *, org_id: uuid.UUID, provider_id: str
) -> PhoneNumber | None:
    stmt = select(PhoneNumber).where(
        PhoneNumber.org_id == org_id, PhoneNumber.provider_phone_number_id == provider_id
    )
    return session.scalars(stmt).first()


def pacing_rows(
    session: Session, *, org_id: uuid.UUID, provider_ids: Sequence[str]
) -> list[PhoneNumber]:
    if not provider_ids:
        return []
    stmt = select(PhoneNumber).where(
        PhoneNumber.org_id == org_id, PhoneNumber.provider_phone_number_id.in_(provider_ids)
    )
    return list(session.scalars(stmt))
