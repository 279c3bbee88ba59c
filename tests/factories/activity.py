"""Calls of a campaign stamped at given instants: what the activity of a campaign reads."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from orchestrator.models import Call, CallStatus
from orchestrator.orgs.service import CreatedOrg


def timed_call(
    session: Session,
    *,
    org: CreatedOrg,
    campaign_id: uuid.UUID,
    claimed_at: datetime,
    dialed_at: datetime | None,
    ended_at: datetime | None = None,
    status: CallStatus = CallStatus.IN_PROGRESS,
    ended_reason: str | None = None,
) -> Call:
    """A call of the campaign claimed, sent and ended at these instants (no contact)."""
    call = Call(
        org_id=org.org_id,
        campaign_id=campaign_id,
        status=status,
        phone_number_id="phone-1",
        customer={"number": "+14155550100"},
        created_at=claimed_at,
        updated_at=ended_at or dialed_at or claimed_at,
        dialed_at=dialed_at,
        ended_at=ended_at,
        ended_reason=ended_reason,
    )
    session.add(call)
    session.flush()
    return call
