"""Queries for stored webhook events.

Events are written and read in batches: one statement stores a batch of messages, one claims
the pending ones, one records what applying them did.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from orchestrator.models import WebhookOutcome
from orchestrator.sql import json_recordset, json_rows

# Applied types wait here (outcome NULL) until applied; the others are stored as ``ignored``.
PENDING = None


@dataclass(frozen=True)
class NewEvent:
    """A message as it is stored: the columns it is found by, and its body."""

    message_type: str
    provider_call_id: str | None
    status: str | None
    ended_reason: str | None
    dedupe_key: str
    outcome: WebhookOutcome | None
    payload: dict[str, Any]
    # The body exactly as received, stored as is (else ``payload`` is serialised).
    raw_payload: str | None = None


@dataclass(frozen=True)
class StoredEvent:
    id: int
    message_type: str
    provider_call_id: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class EventOutcome:
    """What applying one event did, and to what: a call (``call_id``), or a session or chat of
    ``org_id`` (``call_id`` None)."""

    event_id: int
    outcome: WebhookOutcome
    call_id: uuid.UUID | None = None
    org_id: uuid.UUID | None = None


_STORE_COLUMNS = (
    ("message_type", "varchar"),
    ("provider_call_id", "varchar"),
    ("status", "varchar"),
    ("ended_reason", "varchar"),
    ("dedupe_key", "varchar"),
    ("outcome", "varchar"),
    ("payload", "jsonb"),
)
# In the driver's own parameter style: the API's intake runs it on an asyncio connection of
# its own (``store_events_async``), everything else through the session (``store_events``).
_STORE = f"""
    INSERT INTO webhook_events
        (message_type, provider_call_id, status, ended_reason, dedupe_key, outcome, payload)
    SELECT m.message_type, m.provider_call_id, m.status, m.ended_reason, m.dedupe_key,
           m.outcome, m.payload
    FROM {json_recordset("%(events)s", _STORE_COLUMNS, alias="m", ordinality=True)}
    ORDER BY m.n
    ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
    RETURNING id, dedupe_key
    """


def _store_params(events: Sequence[NewEvent]) -> dict[str, Any]:
    rows = (
        (
            e.message_type,
            e.provider_call_id,
            e.status,
            e.ended_reason,
            e.dedupe_key,
            e.outcome,
            # The body as received, sent as it is (a fragment orjson copies, not parses); one
            # made here goes through the standard library, which writes any JSON it was given
            # (integers past 64 bits, for one) where orjson would refuse.
            orjson.Fragment(e.raw_payload or json.dumps(e.payload)),
        )
        for e in events
    )
    return {"events": json_rows([name for name, _ in _STORE_COLUMNS], rows)}


def store_events(session: Session, events: Sequence[NewEvent]) -> dict[str, int]:
    """Store every event whose dedupe key is not stored yet: {dedupe key: id} of those stored.

    A message delivered twice (even twice in one batch) is stored once; a concurrent delivery
    of the same message waits on the unique key, then finds it taken.
    """
    if not events:
        return {}
    rows = session.connection().exec_driver_sql(_STORE, _store_params(events))
    return {key: event_id for event_id, key in rows}


async def store_events_async(
    connection: psycopg.AsyncConnection[Any], events: Sequence[NewEvent]
) -> dict[str, int]:
    """``store_events`` on an asyncio connection, in its transaction (or committed, in
    autocommit: one statement, so all of the batch or none of it)."""
    if not events:
        return {}
    cursor = await connection.execute(_STORE, _store_params(events))
    return {key: event_id for event_id, key in await cursor.fetchall()}


_CLAIM_PENDING = text(
    """
    SELECT id, message_type, provider_call_id, payload::text FROM webhook_events
    WHERE outcome IS NULL ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
    """
)
_CLAIM_THESE = text(
    """
    SELECT id, message_type, provider_call_id, payload::text FROM webhook_events
    WHERE outcome IS NULL AND id = ANY(CAST(:ids AS bigint[])) ORDER BY id FOR UPDATE
    """
)


def claim_pending_events(
    session: Session, *, limit: int, event_ids: Sequence[int] | None = None
) -> list[StoredEvent]:
    """Events stored but not applied yet, oldest first, locked (others' claims are skipped).

    With ``event_ids``, only those (waiting for any other claimer of them).
    """
    if event_ids is not None:
        rows = session.execute(_CLAIM_THESE, {"ids": list(event_ids)})
    else:
        rows = session.execute(_CLAIM_PENDING, {"limit": limit})
    return _stored_events(rows.all())


def _stored_events(rows: Sequence[Row[int, str, str | None, str]]) -> list[StoredEvent]:
    # Payloads are read as text and parsed here: orjson is several times the driver's json.
    return [StoredEvent(row[0], row[1], row[2], orjson.loads(row[3])) for row in rows]


_PENDING_IDS = text("SELECT id FROM webhook_events WHERE outcome IS NULL ORDER BY id LIMIT :limit")


def pending_event_ids(session: Session, *, limit: int) -> list[int]:
    return list(session.scalars(_PENDING_IDS, {"limit": limit}))


_PARKED = text(
    """
    SELECT id, message_type, provider_call_id, payload::text FROM webhook_events
    WHERE outcome = 'parked' AND provider_call_id = ANY(CAST(:provider_call_ids AS varchar[]))
        AND message_type = ANY(CAST(:message_types AS varchar[]))
    ORDER BY id FOR UPDATE
    """
)


def parked_events_for_update(
    session: Session, *, provider_call_ids: Iterable[str], message_types: Sequence[str]
) -> list[StoredEvent]:
    """Parked events of these provider ids (calls', sessions' or chats', as ``message_types``
    say), locked, oldest first (almost always none)."""
    ids = sorted(set(provider_call_ids))
    if not ids:
        return []
    params = {"provider_call_ids": ids, "message_types": list(message_types)}
    return _stored_events(session.execute(_PARKED, params).all())


_OUTCOME_COLUMNS = (
    ("id", "bigint"),
    ("outcome", "varchar"),
    ("call_id", "uuid"),
    ("org_id", "uuid"),
)
_RECORD = text(
    f"""
    UPDATE webhook_events AS e
    SET outcome = v.outcome, call_id = v.call_id, org_id = v.org_id,
        applied_at = CASE WHEN v.org_id IS NULL THEN NULL ELSE CAST(:now AS timestamptz) END
    FROM {json_recordset("outcomes", _OUTCOME_COLUMNS)}
    WHERE e.id = v.id
    RETURNING EXTRACT(EPOCH FROM e.applied_at - e.received_at)
    """
)


def record_outcomes(
    session: Session, outcomes: Sequence[EventOutcome], *, now: datetime
) -> list[float]:
    """Each event's outcome; the seconds each applied one waited since it was stored."""
    if not outcomes:
        return []
    rows = ((o.event_id, o.outcome, o.call_id, o.org_id) for o in outcomes)
    names = [name for name, _ in _OUTCOME_COLUMNS]
    params = {"outcomes": json_rows(names, rows), "now": now}
    lags = session.scalars(_RECORD, params)
    return [max(float(lag), 0.0) for lag in lags if lag is not None]


_BACKLOG = text(
    """
    SELECT count(*),
        (SELECT received_at FROM webhook_events WHERE outcome IS NULL ORDER BY id LIMIT 1)
    FROM webhook_events WHERE outcome IS NULL
    """
)


def pending_backlog(session: Session) -> tuple[int, datetime | None]:
    """Messages stored and not applied yet, and when the oldest of them was stored; both read
    through the pending index (the oldest is the lowest id)."""
    count, oldest = session.execute(_BACKLOG).one()
    return int(count), oldest
