"""Queries for contacts. Inserts use COPY: a 10,000-customer campaign is one round trip."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Row,
    Select,
    String,
    Uuid,
    any_,
    case,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from orchestrator.calls.ended_reasons import completing_ended_reasons
from orchestrator.clock import utcnow
from orchestrator.contacts.service import NewContact
from orchestrator.contacts.states import ContactEvent, next_contact_status
from orchestrator.decisions import repository as decisions_repo
from orchestrator.models import Contact, ContactStatus
from orchestrator.sql import BulkUpdate, array_param

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
    "zone_key",
    "not_before",
    "created_at",
    "updated_at",
)


def copy_contacts(
    session: Session,
    *,
    campaign_id: uuid.UUID,
    org_id: uuid.UUID,
    contacts: Iterable[NewContact],
) -> None:
    """The contacts, new and pending, in one COPY: read as they are written, so a generator
    is streamed to the server (and the server's work overlaps the caller's)."""
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
                        contact.zone_key,
                        now,
                        now,
                        now,
                    )
                )


def copy_campaign_contacts(
    session: Session,
    *,
    source_id: uuid.UUID,
    campaign_id: uuid.UUID,
    phone_number_id: str | None,
) -> None:
    """The contacts of another campaign, as they were posted, new and pending, in its dial
    order, onto ``phone_number_id`` if given (else each on its own caller number); in one
    statement however many there are."""
    now = utcnow()
    copied = select(
        func.gen_random_uuid(),
        literal(campaign_id, Uuid),
        Contact.org_id,
        Contact.position,
        func.coalesce(literal(phone_number_id, String), Contact.phone_number_id),
        Contact.number,
        Contact.dedupe_key,
        Contact.customer,
        literal(ContactStatus.PENDING.value, String),
        literal(0, Integer),
        Contact.zone_key,
        *(literal(now, DateTime(timezone=True)) for _ in range(3)),
    ).where(Contact.campaign_id == source_id)
    session.execute(insert(Contact).from_select(COPY_COLUMNS, copied))


@dataclass(frozen=True)
class DueGroup:
    """Pending contacts of one caller number under one calling-hours zone key, up to ``limit``."""

    phone_number_id: str | None
    zone_key: str
    limit: int


def due_contacts(
    session: Session,
    *,
    campaign_id: uuid.UUID,
    groups: Sequence[DueGroup],
    now: datetime,
    where: Sequence[ColumnElement[bool]] = (),
    limit: int | None = None,
) -> Sequence[Row[uuid.UUID, str | None, str | None, str]]:
    """The first due contacts of each group, merged in due order (one index range per group):
    ``(id, phone_number_id, number, zone_key)``; the first ``limit`` of them, if given.

    ``where`` narrows them further (a pre-dial check's state: see ``predial.repository``).
    """
    parts = [
        due_in_group(campaign_id=campaign_id, group=group, now=now, where=where).subquery()
        for group in groups
        if group.limit > 0
    ]
    if not parts:
        return []
    merged = union_all(*(select(part) for part in parts)).subquery()
    stmt = select(
        merged.c.id, merged.c.phone_number_id, merged.c.number, merged.c.zone_key
    ).order_by(merged.c.not_before, merged.c.position)
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.execute(stmt).all()


def due_in_group(
    *,
    campaign_id: uuid.UUID,
    group: DueGroup,
    now: datetime,
    where: Sequence[ColumnElement[bool]] = (),
) -> Select[uuid.UUID, str | None, str | None, str, datetime, int]:
    """The first ``group.limit`` due contacts of one group, in due order: one range of
    ``ix_contacts_due``."""
    of_caller = (
        Contact.phone_number_id.is_(None)
        if group.phone_number_id is None
        else Contact.phone_number_id == group.phone_number_id
    )
    return (
        select(
            Contact.id,
            Contact.phone_number_id,
            Contact.number,
            Contact.zone_key,
            Contact.not_before,
            Contact.position,
        )
        .where(
            Contact.campaign_id == campaign_id,
            Contact.status == ContactStatus.PENDING,
            of_caller,
            Contact.zone_key == group.zone_key,
            Contact.not_before <= now,
            *where,
        )
        .order_by(Contact.not_before, Contact.position)
        .limit(group.limit)
    )


def _from_pending(event: ContactEvent) -> str:
    """Where ``event`` takes a pending contact: the status an UPDATE of pending rows sets."""
    target = next_contact_status(ContactStatus.PENDING, event)
    assert target is not None, event
    return target.value


def claim_contacts(
    session: Session, *, contact_ids: Sequence[uuid.UUID]
) -> Sequence[Row[uuid.UUID, uuid.UUID, int, str | None, dict[str, Any]]]:
    """Pending → dispatched for those still pending (the UPDATE re-checks under the row lock).

    The claim consumes the attempt's pre-dial check (the next attempt is asked again) and
    ends the contact's wait (``deferral``: the same reason to wait after it is a new decision).
    """
    if not contact_ids:
        return []
    stmt = (
        update(Contact)
        .where(
            Contact.id == any_(array_param("contact_ids", list(contact_ids), Uuid)),
            Contact.status == ContactStatus.PENDING,
        )
        .values(
            status=_from_pending(ContactEvent.CLAIM),
            attempts=Contact.attempts + 1,
            predial_state=None,
            predial_lease_until=None,
            predial_errors=0,
            deferral=None,
            updated_at=utcnow(),
        )
        .returning(
            Contact.id,
            Contact.campaign_id,
            Contact.attempts,
            Contact.phone_number_id,
            Contact.customer,
        )
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).all()


def ending_outcome(undialed: ContactEvent) -> ColumnElement[str]:
    """Where a pending contact ends: by ``undialed`` if never dialed, else as its last attempt
    ended (one waiting for a retry)."""
    completing = sorted(completing_ended_reasons())
    return case(
        (Contact.attempts == 0, _from_pending(undialed)),
        (Contact.last_ended_reason.in_(completing), _from_pending(ContactEvent.CLOSE_COMPLETED)),
        else_=_from_pending(ContactEvent.CLOSE_FAILED),
    )


def close_pending_contacts(
    session: Session, *, campaign_id: uuid.UUID, reason: str
) -> list[tuple[uuid.UUID, ContactStatus, str | None]]:
    """Every pending contact ends: never dialed → skipped; else as its last attempt ended.

    Each closed contact's (id, new status, last attempt's ended reason). The same statement
    records each one's decision (``skipped``, or ``closed`` with a retry it will not get):
    a million contacts closed are one statement, not a million rows through Python twice."""
    outcome = ending_outcome(ContactEvent.CLOSE_UNDIALED)
    now = utcnow()
    closed = (
        update(Contact)
        .where(Contact.campaign_id == campaign_id, Contact.status == ContactStatus.PENDING)
        .values(status=outcome, status_reason=reason, deferral=None, updated_at=now)
        .returning(
            Contact.id,
            Contact.org_id,
            Contact.campaign_id,
            Contact.status,
            Contact.last_ended_reason,
        )
        .cte("closed")
    )
    recorded = decisions_repo.closing_decisions(closed, reason=reason, now=now).cte("recorded")
    stmt = select(closed.c.id, closed.c.status, closed.c.last_ended_reason).add_cte(recorded)
    return [
        (contact_id, ContactStatus(status), last_ended_reason)
        for contact_id, status, last_ended_reason in session.execute(stmt)
    ]


def pending_by_zone_key(
    session: Session, *, campaign_id: uuid.UUID, now: datetime, deferral: str
) -> Sequence[Row[str, bool, bool, int]]:
    """Pending contacts counted by calling-hours zone key, whether they are due now, and
    whether they wait for the reason ``deferral``."""
    due = (Contact.not_before <= now).label("due")
    deferred = func.coalesce(Contact.deferral == deferral, False).label("deferred")
    stmt = (
        select(Contact.zone_key, due, deferred, func.count())
        .where(Contact.campaign_id == campaign_id, Contact.status == ContactStatus.PENDING)
        .group_by(Contact.zone_key, due, deferred)
    )
    return session.execute(stmt).all()


def get_contact_for_update(session: Session, *, contact_id: uuid.UUID) -> Contact | None:
    return session.get(Contact, contact_id, with_for_update=True, populate_existing=True)


def lock_contacts(session: Session, *, contact_ids: Iterable[uuid.UUID]) -> Sequence[Contact]:
    """The contacts, locked in id order (so two lockers of overlapping sets never deadlock)."""
    ids = sorted(set(contact_ids))
    if not ids:
        return []
    stmt = (
        select(Contact)
        .where(Contact.id == any_(array_param("ids", ids, Uuid)))
        .order_by(Contact.id)
        .with_for_update()
    )
    return session.scalars(stmt.execution_options(populate_existing=True)).all()


# What a call's end changes on its contact.
_CONTACT_OUTCOME = BulkUpdate(
    "contacts",
    [
        ("status", "varchar"),
        ("status_reason", "varchar"),
        ("last_ended_reason", "varchar"),
        ("not_before", "timestamptz"),
        ("transient_failures", "integer"),
    ],
)


def write_contact_outcomes(session: Session, contacts: Sequence[Contact], *, now: datetime) -> None:
    """Many changed contacts written in one statement (their status, retry, last reason)."""
    _CONTACT_OUTCOME.write(session, contacts, now=now)


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
