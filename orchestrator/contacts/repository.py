"""Queries for contacts. Inserts use COPY: a 10,000-customer campaign is one round trip."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from orchestrator.contacts.service import NewContact
from orchestrator.models import Contact, ContactStatus
from orchestrator.models.base import utcnow

COPY_COLUMNS = (
    "id",
    "campaign_id",
    "org_id",
    "position",
    "phone_number_id",
    "number",
    "dedupe_key",
    "customer",
    "status",
    "attempts",
    "created_at",
    "updated_at",
)


def copy_contacts(
    session: Session,
    *,
    campaign_id: uuid.UUID,
    org_id: uuid.UUID,
    contacts: Sequence[NewContact],
) -> None:
    now = utcnow()
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        statement = f"COPY contacts ({', '.join(COPY_COLUMNS)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            for contact in contacts:
                copy.write_row(
                    (
                        uuid.uuid4(),
                        campaign_id,
                        org_id,
                        contact.position,
                        contact.phone_number_id,
                        contact.number,
                        contact.dedupe_key,
                        json.dumps(contact.customer),
                        ContactStatus.PENDING.value,
                        0,
                        now,
                        now,
                    )
                )


def claim_due_contacts(
    session: Session, *, campaign_id: uuid.UUID, now: datetime, limit: int
) -> list[Contact]:
    """Lock the next pending contacts in dial order; rows another tick holds are skipped."""
    if limit <= 0:
        return []
    stmt = (
        select(Contact)
        .where(
            Contact.campaign_id == campaign_id,
            Contact.status == ContactStatus.PENDING,
            (Contact.next_attempt_at.is_(None)) | (Contact.next_attempt_at <= now),
        )
        .order_by(Contact.position)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def mark_dispatched(session: Session, *, contact_ids: Sequence[uuid.UUID]) -> None:
    if not contact_ids:
        return
    session.execute(
        update(Contact)
        .where(Contact.id.in_(contact_ids))
        .values(status=ContactStatus.DISPATCHED, attempts=Contact.attempts + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def skip_pending_contacts(session: Session, *, campaign_id: uuid.UUID, reason: str) -> int:
    result = session.execute(
        update(Contact)
        .where(Contact.campaign_id == campaign_id, Contact.status == ContactStatus.PENDING)
        .values(status=ContactStatus.SKIPPED, status_reason=reason, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def get_contact_for_update(session: Session, *, contact_id: uuid.UUID) -> Contact | None:
    return session.get(Contact, contact_id, with_for_update=True)


def count_by_status(session: Session, *, campaign_id: uuid.UUID) -> dict[str, int]:
    rows = session.execute(
        select(Contact.status, func.count())
        .where(Contact.campaign_id == campaign_id)
        .group_by(Contact.status)
    ).all()
    return {str(status): int(count) for status, count in rows}


def has_unfinished_contacts(session: Session, *, campaign_id: uuid.UUID) -> bool:
    stmt = select(Contact.id).where(
        Contact.campaign_id == campaign_id,
        Contact.status.in_([ContactStatus.PENDING, ContactStatus.DISPATCHED]),
    )
    return session.execute(stmt.limit(1)).first() is not None


def customers_by_campaign(
    session: Session, *, campaign_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str | None, dict[str, Any]]]]:
    """Each campaign's ``(caller number id, customer)`` pairs in dial order."""
    if not campaign_ids:
        return {}
    rows = session.execute(
        select(Contact.campaign_id, Contact.phone_number_id, Contact.customer)
        .where(Contact.campaign_id.in_(campaign_ids))
        .order_by(Contact.campaign_id, Contact.position)
    )
    by_campaign: dict[uuid.UUID, list[tuple[str | None, dict[str, Any]]]] = {}
    for campaign_id, phone_number_id, customer in rows:
        by_campaign.setdefault(campaign_id, []).append((phone_number_id, customer))
    return by_campaign


def set_caller_of_pending(
    session: Session, *, campaign_id: uuid.UUID, phone_number_id: str
) -> None:
    session.execute(
        update(Contact)
        .where(Contact.campaign_id == campaign_id, Contact.status == ContactStatus.PENDING)
        .values(phone_number_id=phone_number_id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
