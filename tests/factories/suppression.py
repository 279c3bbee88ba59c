"""Suppression entries: added as ``POST /suppression`` adds them, and the list read back."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.models import Suppression
from orchestrator.orgs.service import CreatedOrg
from orchestrator.suppression.schemas import AddSuppressionIn
from orchestrator.suppression.service import add_numbers


def suppress(
    session: Session,
    *,
    org: CreatedOrg,
    numbers: list[str],
    reason: str = "dnc",
    source: str | None = None,
    expires_at: datetime | None = None,
) -> dict[str, int]:
    body: dict[str, Any] = {"numbers": numbers, "reason": reason, "source": source}
    if expires_at is not None:
        body["expiresAt"] = expires_at
    return add_numbers(session, org_id=org.org_id, body=AddSuppressionIn.model_validate(body))


def suppress_rows(
    session: Session,
    *,
    org: CreatedOrg,
    numbers: Iterable[str],
    expires_at: datetime | None = None,
    reason: str = "dnc",
) -> None:
    """Rows on the org's suppression list as they are, any expiry (past ones too), no lock."""
    session.add_all(
        Suppression(org_id=org.org_id, number=number, reason=reason, expires_at=expires_at)
        for number in numbers
    )
    session.flush()


def suppression_entries(session: Session, *, org_id: uuid.UUID) -> dict[str, Suppression]:
    """The org's entries by number, as the database holds them now."""
    stmt = (
        select(Suppression)
        .where(Suppression.org_id == org_id)
        .execution_options(populate_existing=True)
    )
    return {entry.number: entry for entry in session.scalars(stmt)}
