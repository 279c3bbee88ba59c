"""Every query on ``campaign_events``: recording, numbering, claiming, results, listing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Uuid, and_, any_, func, or_, select, text, update
from sqlalchemy.orm import Session

from orchestrator.events.states import NAMED_ONLY_EVENTS
from orchestrator.models import Call, Campaign, CampaignEventStatus, Org, OutboxEvent
from orchestrator.sql import array_param, json_recordset, json_rows

# Numbering is quick and runs in one place at a time; so does claiming, so that two claimers
# never both see room for a receiver and take it twice.
NUMBERING_LOCK = (0x0E7E, 1)
CLAIMING_LOCK = (0x0E7E, 2)


@dataclass(frozen=True)
class NewEvent:
    campaign_id: uuid.UUID
    event_type: str
    data: dict[str, Any]


# Only campaigns with a server URL whose ``serverMessages`` (when given) select the type;
# a type of ``NAMED_ONLY_EVENTS`` only when they are given and name it.
_EVENT_COLUMNS = (("campaign_id", "uuid"), ("event_type", "text"), ("data", "jsonb"))
_INSERT = text(
    f"""
    INSERT INTO campaign_events (id, org_id, campaign_id, event_type, data, occurred_at, status,
                                 attempts, next_attempt_at, retry_window_from)
    SELECT gen_random_uuid(), c.org_id, c.id, v.event_type, v.data, :now,
           'pending', 0, :now, :now
    FROM {json_recordset("events", _EVENT_COLUMNS, ordinality=True)}
    JOIN campaigns AS c ON c.id = v.campaign_id
    WHERE c.server ->> 'url' IS NOT NULL
      AND ((jsonb_typeof(c.server_messages) IS DISTINCT FROM 'array'
            AND v.event_type <> ALL(CAST(:named_only AS text[])))
           OR jsonb_exists(c.server_messages, v.event_type))
    ORDER BY v.n
    """
)


def insert_events(session: Session, events: Sequence[NewEvent], *, now: datetime) -> int:
    params = {
        "events": json_rows(
            [name for name, _ in _EVENT_COLUMNS],
            ((e.campaign_id, str(e.event_type), e.data) for e in events),
        ),
        "now": now,
        "named_only": sorted(NAMED_ONLY_EVENTS),
    }
    result = session.execute(_INSERT, params)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def last_sent_call_ids(
    session: Session, *, contact_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Each contact's latest call the provider had (an attempt that was really made)."""
    stmt = (
        select(Call.contact_id, Call.id)
        .where(
            Call.contact_id == any_(array_param("ids", contact_ids, Uuid)),
            Call.provider_call_id.is_not(None),
        )
        .order_by(Call.contact_id, Call.attempt)
    )
    # In attempt order: each contact's last call is the one that stays.
    return {contact_id: call_id for contact_id, call_id in session.execute(stmt) if contact_id}


_NUMBER = text(
    """
    WITH unnumbered AS (
        SELECT id, campaign_id, ordinal FROM campaign_events
        WHERE sequence IS NULL ORDER BY ordinal LIMIT :limit
    ), numbered AS (
        SELECT u.id, COALESCE(
                   (SELECT max(e.sequence) FROM campaign_events AS e
                    WHERE e.campaign_id = u.campaign_id AND e.sequence IS NOT NULL), 0)
               + row_number() OVER (PARTITION BY u.campaign_id ORDER BY u.ordinal) AS sequence
        FROM unnumbered AS u
    )
    UPDATE campaign_events AS e SET sequence = n.sequence
    FROM numbered AS n WHERE e.id = n.id
    """
)


def number_events(session: Session, *, limit: int) -> int | None:
    """Number events not numbered yet, per campaign, in the order they were written.

    Under a transaction-scoped advisory lock, so two numberers never hand out one number
    twice; None when another holds it.
    """
    locked = session.scalar(select(func.pg_try_advisory_xact_lock(*NUMBERING_LOCK)))
    if not locked:
        return None
    result = session.execute(_NUMBER, {"limit": limit})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def lock_claims(session: Session) -> None:
    """Held until the transaction ends; claims are short, so waiting for one is too."""
    session.execute(select(func.pg_advisory_xact_lock(*CLAIMING_LOCK)))


def due_events(
    session: Session, *, now: datetime, limit: int, url: str | None = None
) -> Sequence[Row[uuid.UUID, uuid.UUID, int, str, float | None]]:
    """Pending, numbered, due, not leased: (id, campaign id, sequence, url, timeout), locked;
    only those to ``url`` if given."""
    server_url = Campaign.server["url"].astext
    timeout = Campaign.server["timeoutSeconds"].as_float()
    to_url = [] if url is None else [server_url == url]
    stmt = (
        select(OutboxEvent.id, OutboxEvent.campaign_id, OutboxEvent.sequence, server_url, timeout)
        .join(Campaign, Campaign.id == OutboxEvent.campaign_id)
        .where(
            OutboxEvent.status == CampaignEventStatus.PENDING,
            OutboxEvent.sequence.is_not(None),
            OutboxEvent.next_attempt_at <= now,
            or_(OutboxEvent.lease_until.is_(None), OutboxEvent.lease_until <= now),
            *to_url,
        )
        .order_by(OutboxEvent.next_attempt_at)
        .limit(limit)
        .with_for_update(of=OutboxEvent, skip_locked=True)
    )
    return session.execute(stmt).all()


def leased_by_url(session: Session, *, now: datetime) -> dict[str, int]:
    """Events out for delivery now (leased, lease not over), per receiver URL."""
    url = Campaign.server["url"].astext
    stmt = (
        select(url, func.count())
        .select_from(OutboxEvent)
        .join(Campaign, Campaign.id == OutboxEvent.campaign_id)
        .where(OutboxEvent.status == CampaignEventStatus.PENDING, OutboxEvent.lease_until > now)
        .group_by(url)
    )
    return {str(u): int(n) for u, n in session.execute(stmt)}


def lease_events(
    session: Session, *, event_ids: Sequence[uuid.UUID], lease_until: datetime
) -> None:
    lease_events_until(session, event_ids=event_ids, lease_until=lease_until)


def lease_events_until(
    session: Session, *, event_ids: Sequence[uuid.UUID], lease_until: datetime | None
) -> None:
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == any_(array_param("ids", event_ids, Uuid)))
        .values(lease_until=lease_until)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Deliverable:
    """An event with everything its delivery needs, read before the request is sent."""

    id: uuid.UUID
    campaign_id: uuid.UUID
    sequence: int
    event_type: str
    data: dict[str, Any]
    occurred_at: datetime
    attempts: int
    retry_window_from: datetime
    server: dict[str, Any]
    signing_secret: str


def deliverables(session: Session, *, event_ids: Sequence[uuid.UUID]) -> list[Deliverable]:
    """The still pending events of ``event_ids``, in campaign and sequence order."""
    stmt = (
        select(OutboxEvent, Campaign.server, Org.signing_secret)
        .join(Campaign, Campaign.id == OutboxEvent.campaign_id)
        .join(Org, Org.id == OutboxEvent.org_id)
        .where(
            OutboxEvent.id == any_(array_param("ids", event_ids, Uuid)),
            OutboxEvent.status == CampaignEventStatus.PENDING,
        )
        .order_by(OutboxEvent.campaign_id, OutboxEvent.sequence)
    )
    return [
        Deliverable(
            id=event.id,
            campaign_id=event.campaign_id,
            sequence=event.sequence or 0,
            event_type=event.event_type,
            data=event.data,
            occurred_at=event.occurred_at,
            attempts=event.attempts,
            retry_window_from=event.retry_window_from,
            server=server or {},
            signing_secret=secret,
        )
        for event, server, secret in session.execute(stmt)
    ]


def mark_delivered(
    session: Session, *, event_ids: Sequence[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    """The events of ``event_ids`` still pending are delivered; which ones were."""
    if not event_ids:
        return set()
    stmt = (
        update(OutboxEvent)
        .where(
            OutboxEvent.id == any_(array_param("ids", event_ids, Uuid)),
            OutboxEvent.status == CampaignEventStatus.PENDING,
        )
        .values(
            status=CampaignEventStatus.DELIVERED,
            attempts=OutboxEvent.attempts + 1,
            delivered_at=now,
            lease_until=None,
            last_error=None,
        )
        .returning(OutboxEvent.id)
        .execution_options(synchronize_session=False)
    )
    return set(session.scalars(stmt))


def mark_attempt_failed(
    session: Session, *, event_id: uuid.UUID, error: str, retry_at: datetime | None
) -> bool:
    """A failed attempt: due again at ``retry_at``, or ``failed`` for good when None."""
    values: dict[str, Any] = {
        "attempts": OutboxEvent.attempts + 1,
        "lease_until": None,
        "last_error": error[:500],
    }
    if retry_at is None:
        values["status"] = CampaignEventStatus.FAILED
    else:
        values["next_attempt_at"] = retry_at
    stmt = (
        update(OutboxEvent)
        .where(OutboxEvent.id == event_id, OutboxEvent.status == CampaignEventStatus.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def list_events(
    session: Session,
    *,
    campaign_id: uuid.UUID,
    status: CampaignEventStatus | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[OutboxEvent], int]:
    where = [OutboxEvent.campaign_id == campaign_id]
    if status is not None:
        where.append(OutboxEvent.status == status)
    total = session.scalar(select(func.count()).select_from(OutboxEvent).where(*where)) or 0
    stmt = select(OutboxEvent).where(*where).order_by(OutboxEvent.ordinal).limit(limit)
    return session.scalars(stmt.offset(offset)).all(), int(total)


def redeliver(
    session: Session,
    *,
    campaign_id: uuid.UUID,
    event_ids: Sequence[uuid.UUID] | None,
    now: datetime,
) -> int:
    """Failed events (or those of ``event_ids`` not pending) go out again, as a new round."""
    where = [OutboxEvent.campaign_id == campaign_id]
    if event_ids is None:
        where.append(OutboxEvent.status == CampaignEventStatus.FAILED)
    else:
        where.append(OutboxEvent.id == any_(array_param("ids", event_ids, Uuid)))
        where.append(OutboxEvent.status != CampaignEventStatus.PENDING)
    stmt = (
        update(OutboxEvent)
        .where(and_(*where))
        .values(
            status=CampaignEventStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            retry_window_from=now,
            lease_until=None,
            delivered_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def campaign_of_org(session: Session, *, org_id: uuid.UUID, campaign_id: uuid.UUID) -> bool:
    stmt = select(Campaign.id).where(Campaign.id == campaign_id, Campaign.org_id == org_id)
    return session.scalar(stmt) is not None


def org_of_campaign(session: Session, *, campaign_id: uuid.UUID) -> uuid.UUID | None:
    return session.scalar(select(Campaign.org_id).where(Campaign.id == campaign_id))


def pending_count(session: Session) -> int:
    """Events not delivered yet: not numbered (all pending), and numbered and pending; each
    part read from its partial index, whatever the number of events delivered."""
    unnumbered = select(func.count()).where(OutboxEvent.sequence.is_(None))
    numbered = select(func.count()).where(
        OutboxEvent.status == CampaignEventStatus.PENDING, OutboxEvent.sequence.is_not(None)
    )
    return int(session.scalar(unnumbered) or 0) + int(session.scalar(numbered) or 0)


_PRUNE = text(
    """
    DELETE FROM campaign_events WHERE id IN (
        SELECT e.id FROM campaign_events AS e
        WHERE e.status = 'delivered' AND e.delivered_at < :before
          AND e.sequence < (SELECT max(l.sequence) FROM campaign_events AS l
                            WHERE l.campaign_id = e.campaign_id)
        LIMIT :limit
    )
    """
)


def delete_delivered(session: Session, *, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` events delivered before ``before``; how many went.

    Each campaign's last numbered event stays, whatever its age: numbering continues from
    it, so a sequence number is never handed out twice.
    """
    result = session.execute(_PRUNE, {"before": before, "limit": limit})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
