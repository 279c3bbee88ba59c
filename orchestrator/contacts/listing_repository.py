"""A campaign's contacts page by page, with their last attempt, at any depth of any campaign.

A page is found first, as positions only, through one index per sort (see ``Contact``), read
without touching the table; then the page's own rows and last calls are read.

* Dial order: ``ix_contacts_campaign_position`` from the campaign's first contact, skipping
  the page's offset (the index carries the status, so a status filter is applied there too).
* Status order: ``ix_contacts_campaign_status_order`` holds each status as one run of
  contacts in dial order. The caller knows how many contacts each status has (the campaign's
  counters), so the page is found in the runs it falls in, each entered at the right place:
  the offset skipped is the page's place within its status, not within the whole campaign.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Subquery,
    and_,
    any_,
    false,
    literal,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import LateralFromClause

from orchestrator.contacts.states import ContactStatus
from orchestrator.models import Call, Contact
from orchestrator.models.contact import STATUS_ORDER_SQL
from orchestrator.sql import array_param

ContactOrder = Literal["position", "status"]
# Each status's rank in Vapi's order, as ``STATUS_ORDER_SQL`` numbers it.
STATUS_RANK = {status: rank for rank, status in enumerate(ContactStatus)}


@dataclass(frozen=True)
class ListedContact:
    id: uuid.UUID
    status: ContactStatus
    status_reason: str | None
    customer: dict[str, Any]
    # The contact's last attempt (its latest call), if it has one.
    call_id: uuid.UUID | None
    ended_reason: str | None
    dispatched_at: datetime | None


@dataclass(frozen=True)
class Run:
    """The part of one status's contacts a page takes, in dial order."""

    status: ContactStatus
    offset: int


def status_runs(
    counts: Mapping[ContactStatus, int],
    statuses: Sequence[ContactStatus] | None,
    *,
    offset: int,
    limit: int,
) -> list[Run]:
    """Where a page of ``limit`` contacts at ``offset`` lies in status order: in which
    statuses' runs, from where in each. ``counts`` are the contacts of each status."""
    runs: list[Run] = []
    start = 0
    for status in ContactStatus:
        count = max(counts.get(status, 0), 0)
        if statuses and status not in statuses:
            continue
        if count and start + count > offset and start < offset + limit:
            runs.append(Run(status, max(offset - start, 0)))
        start += count
    return runs


def _in_dial_order(
    campaign_id: uuid.UUID, statuses: Sequence[ContactStatus] | None, *, offset: int, limit: int
) -> Subquery:
    filters: list[ColumnElement[bool]] = [Contact.campaign_id == campaign_id]
    if statuses:
        values = [status.value for status in statuses]
        filters.append(Contact.status == any_(array_param("statuses", values, String)))
    positions = select(Contact.position).where(*filters).order_by(Contact.position)
    return positions.offset(offset).limit(limit).subquery("page")


def _in_status_order(campaign_id: uuid.UUID, runs: Sequence[Run], *, limit: int) -> Subquery:
    # Unqualified "status" in the expression: each part reads the contacts table alone.
    rank: ColumnElement[int] = literal_column(STATUS_ORDER_SQL)
    parts = [
        select(Contact.position, literal(STATUS_RANK[run.status], Integer).label("rank"))
        .where(Contact.campaign_id == campaign_id, rank == STATUS_RANK[run.status])
        .order_by(Contact.position)
        .offset(run.offset)
        .limit(limit)
        .subquery()
        for run in runs
    ]
    if not parts:
        nothing = select(Contact.position, literal(0, Integer).label("rank")).where(false())
        return nothing.subquery("page")
    merged = union_all(*(select(part) for part in parts)).subquery()
    return (
        select(merged.c.position, merged.c.rank)
        .order_by(merged.c.rank, merged.c.position)
        .limit(limit)
        .subquery("page")
    )


def _last_call() -> LateralFromClause:
    """The latest call of the contact it is joined to: its last attempt."""
    return (
        select(Call.id, Call.ended_reason, Call.created_at)
        .where(Call.contact_id == Contact.id)
        .order_by(Call.attempt.desc(), Call.created_at.desc())
        .limit(1)
        .lateral("last_call")
    )


def page_statement(
    *,
    campaign_id: uuid.UUID,
    statuses: Sequence[ContactStatus] | None,
    order: ContactOrder,
    counts: Mapping[ContactStatus, int],
    offset: int,
    limit: int,
) -> Select[uuid.UUID, str, str | None, dict[str, Any], uuid.UUID, str | None, datetime]:
    """The query of one page: its contacts' rows and last calls, in ``order``."""
    if order == "status":
        runs = status_runs(counts, statuses, offset=offset, limit=limit)
        page = _in_status_order(campaign_id, runs, limit=limit)
        keys: tuple[ColumnElement[Any], ...] = (page.c.rank, page.c.position)
    else:
        page = _in_dial_order(campaign_id, statuses, offset=offset, limit=limit)
        keys = (page.c.position,)
    last = _last_call()
    return (
        select(
            Contact.id,
            Contact.status,
            Contact.status_reason,
            Contact.customer,
            last.c.id,
            last.c.ended_reason,
            last.c.created_at,
        )
        .select_from(page)
        .join(
            Contact, and_(Contact.campaign_id == campaign_id, Contact.position == page.c.position)
        )
        .outerjoin(last, true())
        .order_by(*keys)
    )


def contacts_page(
    session: Session,
    *,
    campaign_id: uuid.UUID,
    statuses: Sequence[ContactStatus] | None,
    order: ContactOrder,
    counts: Mapping[ContactStatus, int],
    offset: int,
    limit: int,
) -> list[ListedContact]:
    """One page of the campaign's contacts (of ``statuses`` when given) in ``order``;
    ``counts`` are its contacts by status (they place a page in status order)."""
    stmt = page_statement(
        campaign_id=campaign_id,
        statuses=statuses,
        order=order,
        counts=counts,
        offset=offset,
        limit=limit,
    )
    return [
        ListedContact(
            id=row[0],
            status=ContactStatus(row[1]),
            status_reason=row[2],
            customer=row[3],
            call_id=row[4],
            ended_reason=row[5],
            dispatched_at=row[6],
        )
        for row in session.execute(stmt)
    ]


def contact_of_campaign(
    session: Session, *, campaign_id: uuid.UUID, contact_id: uuid.UUID
) -> ListedContact | None:
    """One contact of the campaign with its last attempt, as a page lists it; None if the
    campaign has no such contact."""
    last = _last_call()
    stmt = (
        select(
            Contact.id,
            Contact.status,
            Contact.status_reason,
            Contact.customer,
            last.c.id,
            last.c.ended_reason,
            last.c.created_at,
        )
        .where(Contact.id == contact_id, Contact.campaign_id == campaign_id)
        .outerjoin(last, true())
    )
    row = session.execute(stmt).first()
    if row is None:
        return None
    return ListedContact(
        id=row[0],
        status=ContactStatus(row[1]),
        status_reason=row[2],
        customer=row[3],
        call_id=row[4],
        ended_reason=row[5],
        dispatched_at=row[6],
    )
