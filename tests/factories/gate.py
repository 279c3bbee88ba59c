"""The compliance gate's data: suppression entries, an org's frequency caps, its attempt ledger."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.models import Org, RecipientAttempt
from orchestrator.orgs.service import CreatedOrg


def set_caps(session: Session, *, org: CreatedOrg, caps: Iterable[tuple[int, int]]) -> None:
    """The org's policy: these ``(maxAttempts, periodSeconds)`` frequency caps, nothing else."""
    row = session.get_one(Org, org.org_id)
    row.policy = {
        "frequencyCaps": [{"maxAttempts": most, "periodSeconds": period} for most, period in caps]
    }
    session.flush()


def record_attempt(
    session: Session,
    *,
    org: CreatedOrg,
    number: str,
    at: datetime,
    campaign_id: uuid.UUID | None = None,
    channel: str = "call",
) -> None:
    """An attempt to ``number`` sent at ``at`` (by a call or text no longer around)."""
    session.add(
        RecipientAttempt(
            org_id=org.org_id,
            number=number,
            campaign_id=campaign_id,
            call_id=uuid.uuid4(),
            sent_at=at,
            channel=channel,
        )
    )
    session.flush()


def attempts_to(session: Session, *, org: CreatedOrg, number: str) -> list[RecipientAttempt]:
    """The ledger's attempts to ``number``, oldest first, as the database holds them now."""
    stmt = (
        select(RecipientAttempt)
        .where(RecipientAttempt.org_id == org.org_id, RecipientAttempt.number == number)
        .order_by(RecipientAttempt.sent_at)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))
