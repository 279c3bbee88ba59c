"""Queries of the suppression list."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from orchestrator.models import Suppression


def suppressed_numbers(
    session: Session, *, org_id: uuid.UUID, numbers: Collection[str], now: datetime
) -> set[str]:
    """Those of ``numbers`` on the org's list at ``now`` (an expired entry no longer counts)."""
    if not numbers:
        return set()
    stmt = select(Suppression.number).where(
        Suppression.org_id == org_id,
        Suppression.number.in_(list(numbers)),
        or_(Suppression.expires_at.is_(None), Suppression.expires_at > now),
    )
    return set(session.scalars(stmt))
