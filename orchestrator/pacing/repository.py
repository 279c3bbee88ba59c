"""Queries of the rate limits: the dials they saw, read back when Redis lost their state."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from orchestrator.models import Call, Chat


def last_dial_by_caller(
    session: Session, *, since: datetime
) -> Sequence[Row[uuid.UUID, str | None, datetime | None]]:
    """The latest dial of each (org, caller number id) since ``since``: what the rate limits saw."""
    stmt = (
        select(Call.org_id, Call.phone_number_id, func.max(Call.dialed_at))
        .where(Call.dialed_at >= since)
        .group_by(Call.org_id, Call.phone_number_id)
    )
    return session.execute(stmt).all()


def last_text_by_caller(
    session: Session, *, since: datetime
) -> Sequence[Row[uuid.UUID, str | None, datetime | None]]:
    """The latest text sent from each (org, caller number id) since ``since``."""
    stmt = (
        select(Chat.org_id, Chat.phone_number_id, func.max(Chat.sent_at))
        .where(Chat.sent_at >= since)
        .group_by(Chat.org_id, Chat.phone_number_id)
    )
    return session.execute(stmt).all()
