"""A campaign's contacts page by page, with their last attempt, at any depth of any campaign.

A page is found first, as positions only, through one index per sort (see ``Contact``):
``ix_contacts_campaign_position`` for dial order (it carries the status, so a status filter
never reads the table) and ``ix_contacts_campaign_status_order`` for Vapi's status order. Both
are read without touching the table, so skipping to page 20,000 of a million contacts costs a
walk over index entries only; then the page's own rows and last calls are read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Subquery, and_, func, literal_column, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import LateralFromClause

from orchestrator.contacts.states import ContactStatus
from orchestrator.models import Call, Contact
from orchestrator.models.contact import STATUS_ORDER_SQL

ContactOrder = Literal["position", "status"]


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


def _status_order() -> ColumnElement[int]:
    # Unqualified "status": the page query reads the contacts table alone.
    return literal_column(STATUS_ORDER_SQL)


def _filters(
    campaign_id: uuid.UUID, statuses: Sequence[ContactStatus] | None, order: ContactOrder
) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = [Contact.campaign_id == campaign_id]
    if statuses:
        if order == "status":
            # On the index's own expression, so the filter bounds the range it reads.
            ranks = [list(ContactStatus).index(status) for status in statuses]
            filters.append(_status_order().in_(ranks))
        else:
            filters.append(Contact.status.in_([status.value for status in statuses]))
    return filters


def count_contacts(
    session: Session, *, campaign_id: uuid.UUID, statuses: Sequence[ContactStatus] | None
) -> int:
    stmt = select(func.count()).where(*_filters(campaign_id, statuses, "position"))
    return int(session.scalar(stmt) or 0)


def _page(
    campaign_id: uuid.UUID,
    statuses: Sequence[ContactStatus] | None,
    order: ContactOrder,
    *,
    offset: int,
    limit: int,
) -> Subquery:
    """The positions of the page's contacts (and their status rank in status order)."""
    filters = _filters(campaign_id, statuses, order)
    if order == "status":
        rank = _status_order()
        ranked = select(Contact.position, rank.label("rank")).where(*filters)
        return ranked.order_by(rank, Contact.position).offset(offset).limit(limit).subquery("page")
    positions = select(Contact.position).where(*filters).order_by(Contact.position)
    return positions.offset(offset).limit(limit).subquery("page")


def _last_call() -> LateralFromClause:
    """The latest call of the contact it is joined to: its last attempt."""
    return (
        select(Call.id, Call.ended_reason, Call.created_at)
        .where(Call.contact_id == Contact.id)
        .order_by(Call.attempt.desc(), Call.created_at.desc())
        .limit(1)
        .lateral("last_call")
    )


def contacts_page(
    session: Session,
    *,
    campaign_id: uuid.UUID,
    statuses: Sequence[ContactStatus] | None,
    order: ContactOrder,
    offset: int,
    limit: int,
) -> list[ListedContact]:
    """One page of the campaign's contacts (of ``statuses`` when given) in ``order``."""
    page = _page(campaign_id, statuses, order, offset=offset, limit=limit)
    last = _last_call()
    keys = (page.c.rank, page.c.position) if order == "status" else (page.c.position,)
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
        .select_from(page)
        .join(
            Contact, and_(Contact.campaign_id == campaign_id, Contact.position == page.c.position)
        )
        .outerjoin(last, true())
        .order_by(*keys)
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
