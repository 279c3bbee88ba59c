"""Decision histories read back: a contact's decisions, and the campaign's by kind."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.models import ContactDecision


def decisions_of(session: Session, *, contact_id: uuid.UUID) -> list[ContactDecision]:
    """The contact's decisions, oldest first, as the database holds them now."""
    stmt = (
        select(ContactDecision)
        .where(ContactDecision.contact_id == contact_id)
        .order_by(ContactDecision.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def kinds_of(session: Session, *, contact_id: uuid.UUID) -> list[tuple[str, str | None]]:
    """The contact's decisions as ``(kind, reason)``, oldest first."""
    return [(str(d.kind), d.reason) for d in decisions_of(session, contact_id=contact_id)]


def campaign_decisions(
    session: Session, *, campaign_id: uuid.UUID
) -> Counter[tuple[str, str | None]]:
    """How many decisions of each ``(kind, reason)`` the campaign's contacts have."""
    rows = session.execute(
        select(ContactDecision.kind, ContactDecision.reason, func.count())
        .where(ContactDecision.campaign_id == campaign_id)
        .group_by(ContactDecision.kind, ContactDecision.reason)
    )
    return Counter({(str(kind), reason): int(count) for kind, reason, count in rows})
