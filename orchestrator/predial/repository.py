"""Queries for pre-dial checks. A contact's check is ``predial_state`` with its lease:

- NULL: not asked for the attempt to come;
- ``checking``: a check is under way until ``predial_lease_until``; once that has passed
  (its worker died, its task was lost) the contact may be asked again;
- ``eligible``: cleared to be claimed until ``predial_lease_until``; later it is asked again
  (a verdict is not kept for a claim that comes much later, after a pause say).

The rows being checked or cleared are in ``ix_contacts_predial`` (a handful per campaign).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from orchestrator.models import Contact, ContactStatus

CHECKING = "checking"
ELIGIBLE = "eligible"


def cleared(now: datetime) -> list[ColumnElement[bool]]:
    """Conditions of a contact the claim of a campaign with checks may take."""
    return [
        Contact.predial_state == ELIGIBLE,
        Contact.predial_lease_until > now,
    ]


def unasked(now: datetime) -> list[ColumnElement[bool]]:
    """Conditions of a contact that may be asked now: never for this attempt, or lapsed."""
    return [or_(Contact.predial_state.is_(None), Contact.predial_lease_until <= now)]


def checks_and_cleared(
    session: Session, *, campaign_id: uuid.UUID, now: datetime
) -> tuple[int, int]:
    """``(checks, cleared)``: the campaign's checks under way, and its contacts cleared and
    not claimed yet."""
    stmt = select(
        func.count().filter(Contact.predial_state == CHECKING),
        func.count().filter(Contact.predial_state == ELIGIBLE),
    ).where(
        Contact.campaign_id == campaign_id,
        Contact.status == ContactStatus.PENDING,
        Contact.predial_state.is_not(None),
        Contact.predial_lease_until > now,
    )
    checks, cleared = session.execute(stmt).one()
    return int(checks), int(cleared)


def mark_checking(
    session: Session, *, contact_ids: Sequence[uuid.UUID], lease_until: datetime
) -> list[uuid.UUID]:
    """Those still pending are being checked until ``lease_until``; their ids, in the order
    given (``RETURNING`` gives the table's order, which is no order)."""
    if not contact_ids:
        return []
    stmt = (
        update(Contact)
        .where(Contact.id.in_(contact_ids), Contact.status == ContactStatus.PENDING)
        .values(predial_state=CHECKING, predial_lease_until=lease_until)
        .returning(Contact.id)
        .execution_options(synchronize_session=False)
    )
    marked = set(session.scalars(stmt))
    return [contact_id for contact_id in contact_ids if contact_id in marked]
