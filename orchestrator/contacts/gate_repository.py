"""The gate's writes on pending contacts: ending those it refused, deferring those it holds back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Uuid, any_, text, update
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.contacts.repository import ending_outcome
from orchestrator.contacts.states import ContactEvent
from orchestrator.models import Contact, ContactStatus
from orchestrator.sql import array_param


def end_refused_contacts(
    session: Session, *, contact_ids: Sequence[uuid.UUID], reason: str
) -> list[tuple[uuid.UUID, uuid.UUID, ContactStatus, str | None]]:
    """Pending contacts the gate refused end (never dialed → skipped; else as their last
    attempt ended), ``reason`` their ``status_reason``: each one's (id, campaign id, new
    status, last attempt's ended reason)."""
    if not contact_ids:
        return []
    stmt = (
        update(Contact)
        .where(
            Contact.id == any_(array_param("ids", contact_ids, Uuid)),
            Contact.status == ContactStatus.PENDING,
        )
        .values(
            status=ending_outcome(ContactEvent.GATE_SKIP),
            status_reason=reason,
            deferral=None,
            updated_at=utcnow(),
        )
        .returning(Contact.id, Contact.campaign_id, Contact.status, Contact.last_ended_reason)
        .execution_options(synchronize_session=False)
    )
    return [
        (contact_id, campaign_id, ContactStatus(status), last_ended_reason)
        for contact_id, campaign_id, status, last_ended_reason in session.execute(stmt)
    ]


_DEFER = text(
    """
    UPDATE contacts AS c SET not_before = v.until, deferral = :deferral, updated_at = :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:untils AS timestamptz[])) AS v(id, until)
    WHERE c.id = v.id AND c.status = 'pending'
    """
)


def defer_contacts(
    session: Session,
    *,
    until_by_contact: Mapping[uuid.UUID, datetime],
    deferral: str,
    now: datetime,
) -> None:
    """Pending contacts wait, off the due range, each until its instant; ``deferral`` says why."""
    if not until_by_contact:
        return
    ids = list(until_by_contact)
    params = {
        "ids": ids,
        "untils": [until_by_contact[i] for i in ids],
        "deferral": deferral,
        "now": now,
    }
    session.execute(_DEFER, params)
