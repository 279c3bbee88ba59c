"""A campaign's calls over a window, by bucket, and its outcomes: every query of the activity."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from orchestrator.models import Call, CallStatus
from orchestrator.models.call import IN_FLIGHT_SQL


@dataclass(frozen=True)
class Window:
    """Buckets of ``step`` seconds from ``start``; calls claimed before ``lookback`` that are
    not in flight now are left out (they ended before ``start``, or stuck past the longest
    call a provider allows)."""

    start: datetime
    step: int
    buckets: int
    lookback: datetime


@dataclass(frozen=True)
class BucketCounts:
    # Calls sent before the window and not ended at its start.
    in_flight_at_start: int
    dials: list[int]
    ends: list[int]


def _recent_calls(campaign_id: uuid.UUID, window: Window) -> CTE:
    """The campaign's calls sent since the lookback, and those in flight now: when each was
    sent, and when it ended (NULL while in flight). Two index ranges, whatever the campaign's
    size."""
    in_flight = text(IN_FLIGHT_SQL)
    # A call ended by a report that gave no end time ended, as far as we know, when its row
    # last changed.
    ended = case((in_flight, None), else_=func.coalesce(Call.ended_at, Call.updated_at))
    return (
        select(Call.dialed_at.label("sent"), ended.label("ended"))
        .where(
            Call.campaign_id == campaign_id,
            Call.dialed_at.is_not(None),
            or_(Call.created_at >= window.lookback, in_flight),
        )
        .cte("recent")
    )


def bucket_counts(session: Session, *, campaign_id: uuid.UUID, window: Window) -> BucketCounts:
    """One statement: the campaign's sends and ends by bucket, and its calls in flight at the
    window's start."""
    calls = _recent_calls(campaign_id, window)
    start = literal(window.start)

    def bucket(column: ColumnElement[datetime]) -> ColumnElement[int]:
        seconds = func.extract("epoch", column - start)
        return func.least(cast(func.floor(seconds / window.step), Integer), window.buckets - 1)

    open_at_start = select(literal("open"), literal(0), func.count()).where(
        calls.c.sent < start, or_(calls.c.ended.is_(None), calls.c.ended >= start)
    )
    by_bucket = [
        select(literal(kind), bucket(column), func.count())
        .where(column >= start)
        .group_by(text("2"))
        for kind, column in (("dial", calls.c.sent), ("end", calls.c.ended))
    ]
    found: dict[str, list[int]] = {"dial": [0] * window.buckets, "end": [0] * window.buckets}
    open_count = 0
    for kind, index, count in session.execute(union_all(open_at_start, *by_bucket)):
        if kind == "open":
            open_count = count
        else:
            found[kind][index] += count
    return BucketCounts(open_count, found["dial"], found["end"])


def outcomes(session: Session, *, campaign_id: uuid.UUID) -> dict[str, int]:
    """The campaign's ended calls by ``endedReason``, most frequent first."""
    reason = func.coalesce(Call.ended_reason, "unknown")
    stmt = (
        select(reason, func.count())
        .where(and_(Call.campaign_id == campaign_id, Call.status == CallStatus.ENDED))
        .group_by(reason)
        .order_by(func.count().desc(), reason)
    )
    return {str(name): int(count) for name, count in session.execute(stmt)}
