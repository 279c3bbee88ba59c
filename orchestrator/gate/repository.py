"""Queries of the attempt ledger (``recipient_attempts``) and the lock of one recipient."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    Select,
    String,
    Uuid,
    any_,
    bindparam,
    delete,
    exists,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from orchestrator.models import Call, CallStatus, Campaign, Contact, RecipientAttempt
from orchestrator.models.recipient_attempt import CALL_CHANNEL
from orchestrator.sql import array_param, json_recordset, json_rows

RECIPIENT_LOCK_SPACE = 8
# Calls that may be sent any moment and whose attempt is not in the ledger yet.
UNSENT_STATUSES = (CallStatus.CLAIMED, CallStatus.DIALING)


def _recipient_key(org_id: uuid.UUID, number: str) -> int:
    return zlib.crc32(org_id.bytes + number.encode()) - (1 << 31)


_LOCK_RECIPIENT = select(
    func.pg_advisory_xact_lock(bindparam("space", type_=Integer), bindparam("key", type_=Integer))
)


# One statement: the keys come sorted from the subquery and are locked in that order.
_LOCK_RECIPIENTS = text(
    """
    SELECT count(pg_advisory_xact_lock(CAST(:space AS integer), k))
    FROM (SELECT k FROM unnest(CAST(:keys AS integer[])) AS k ORDER BY k) AS sorted_keys
    """
)


def lock_recipient(session: Session, *, org_id: uuid.UUID, number: str) -> None:
    """One send-time check of a number at a time, until the transaction ends: the next one
    counts the attempt the first recorded."""
    key = _recipient_key(org_id, number)
    session.execute(_LOCK_RECIPIENT, {"space": RECIPIENT_LOCK_SPACE, "key": key})


def lock_recipients(
    session: Session, *, recipients: Collection[tuple[uuid.UUID, str | None]]
) -> None:
    """``lock_recipient`` of each ``(org, number)``, in key order: two transactions locking
    overlapping sets never wait for each other in a cycle. A number of None is not locked."""
    keys = sorted({_recipient_key(org_id, n) for org_id, n in recipients if n is not None})
    if keys:
        session.execute(_LOCK_RECIPIENTS, {"space": RECIPIENT_LOCK_SPACE, "keys": keys})


def attempts_since(
    session: Session,
    *,
    org_id: uuid.UUID,
    numbers: Collection[str],
    since: datetime,
    channels: Collection[str] = (CALL_CHANNEL,),
    except_call: uuid.UUID | None = None,
) -> Sequence[Row[str, uuid.UUID | None, datetime, str]]:
    """``(number, campaign_id, sent_at, channel)`` of the attempts over ``channels`` to
    ``numbers`` sent after ``since``."""
    if not numbers or not channels:
        return []
    stmt = select(
        RecipientAttempt.number,
        RecipientAttempt.campaign_id,
        RecipientAttempt.sent_at,
        RecipientAttempt.channel,
    )
    stmt = stmt.where(
        RecipientAttempt.org_id == org_id,
        RecipientAttempt.number == any_(array_param("numbers", sorted(numbers), String)),
        RecipientAttempt.sent_at > since,
        RecipientAttempt.channel == any_(array_param("channels", sorted(channels), String)),
    )
    if except_call is not None:
        stmt = stmt.where(RecipientAttempt.call_id != except_call)
    return session.execute(stmt).all()


def unsent_calls(
    session: Session, *, org_id: uuid.UUID
) -> Sequence[Row[str | None, uuid.UUID | None]]:
    """``(customer number, campaign_id)`` of the org's calls claimed or being dialed whose
    attempt is not in the ledger: each is about to be one."""
    ledgered = exists().where(RecipientAttempt.call_id == Call.id)
    stmt = select(Call.customer["number"].astext, Call.campaign_id).where(
        Call.org_id == org_id, Call.status.in_(UNSENT_STATUSES), ~ledgered
    )
    return session.execute(stmt).all()


def record_attempt(
    session: Session,
    *,
    org_id: uuid.UUID,
    number: str,
    campaign_id: uuid.UUID | None,
    call_id: uuid.UUID,
    sent_at: datetime,
    channel: str = CALL_CHANNEL,
) -> None:
    """The call's attempt (a text's: ``call_id`` is the chat's id), sent now; a call dialed
    again (its earlier create was never made) has its one row moved to now."""
    params = {
        "org_id": org_id,
        "number": number,
        "campaign_id": campaign_id,
        "call_id": call_id,
        "channel": channel,
        "sent_at": sent_at,
    }
    session.execute(_RECORD_ATTEMPT, params)


_ATTEMPT_TYPES = (
    ("org_id", "uuid"),
    ("number", "varchar"),
    ("campaign_id", "uuid"),
    ("call_id", "uuid"),
    ("channel", "varchar"),
    ("sent_at", "timestamptz"),
)
_RECORD_ATTEMPTS = text(
    f"""
    INSERT INTO recipient_attempts (org_id, number, campaign_id, call_id, channel, sent_at)
    SELECT * FROM {json_recordset("attempts", _ATTEMPT_TYPES)}
    ON CONFLICT (call_id) DO UPDATE SET sent_at = excluded.sent_at, number = excluded.number
    """
)


def record_attempts(session: Session, attempts: Sequence[Mapping[str, Any]]) -> None:
    """``record_attempt`` of many (rows of ``ATTEMPT_COLUMNS``), in one statement: one row per
    call, the last given (a statement may not write one row twice)."""
    by_call = {attempt["call_id"]: attempt for attempt in attempts}
    if by_call:
        rows = ([row[name] for name in ATTEMPT_COLUMNS] for row in by_call.values())
        session.execute(_RECORD_ATTEMPTS, {"attempts": json_rows(ATTEMPT_COLUMNS, rows)})


def _record_attempt_statement() -> Any:
    stmt = insert(RecipientAttempt).values(
        {name: bindparam(name) for name in ATTEMPT_COLUMNS},
    )
    return stmt.on_conflict_do_update(
        index_elements=[RecipientAttempt.call_id],
        set_={"sent_at": stmt.excluded.sent_at, "number": stmt.excluded.number},
    )


ATTEMPT_COLUMNS = ("org_id", "number", "campaign_id", "call_id", "channel", "sent_at")
# Built once: every send runs it, and building a statement costs more than running it.
_RECORD_ATTEMPT = _record_attempt_statement()


def forget_attempt(session: Session, *, call_id: uuid.UUID) -> bool:
    """The call's create was never made: nothing reached the person, so nothing counts."""
    result = session.execute(delete(RecipientAttempt).where(RecipientAttempt.call_id == call_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def prune_attempts(session: Session, *, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` attempts sent before ``before``; how many went."""
    oldest = (
        select(RecipientAttempt.id)
        .where(RecipientAttempt.sent_at < before)
        .order_by(RecipientAttempt.sent_at)
        .limit(limit)
        .scalar_subquery()
    )
    result = session.execute(delete(RecipientAttempt).where(RecipientAttempt.id.in_(oldest)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


SendTargetRow = Row[
    uuid.UUID, uuid.UUID | None, uuid.UUID | None, dict[str, Any], datetime | None, str | None
]


def send_target(session: Session, *, call_id: uuid.UUID) -> SendTargetRow | None:
    """What the send-time check needs of a call: ``(org_id, campaign_id, contact_id, customer,
    end of its window, its contact's zone key)``; None if the call is gone."""
    return session.execute(_SEND_TARGET, {"call_id": call_id}).first()


def send_targets(session: Session, *, call_ids: Sequence[uuid.UUID]) -> Sequence[Row[Any]]:
    """``send_target`` of many calls, each row led by the call's id; gone ones are absent."""
    if not call_ids:
        return []
    stmt = _send_target_of(Call.id).where(
        Call.id == any_(array_param("call_ids", list(call_ids), Uuid))
    )
    return session.execute(stmt).all()


def _send_target_of(*leading: Any) -> Select[Any]:
    return (
        select(
            *leading,
            Call.org_id,
            Call.campaign_id,
            Call.contact_id,
            Call.customer,
            func.coalesce(Campaign.latest_at, Call.not_after),
            Contact.zone_key,
        )
        .outerjoin(Campaign, Campaign.id == Call.campaign_id)
        .outerjoin(Contact, Contact.id == Call.contact_id)
    )


_SEND_TARGET = _send_target_of().where(Call.id == bindparam("call_id"))
