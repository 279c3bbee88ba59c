"""Queries of outbound texts and their sessions for the workers: claims, leases, sweeps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Row, and_, exists, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from orchestrator.models import Chat, ChatSession, SessionStatus, TextStatus

UNSETTLED = (TextStatus.QUEUED, TextStatus.SENDING)


def get_text_for_update(session: Session, *, chat_id: uuid.UUID) -> Chat | None:
    stmt = select(Chat).where(Chat.id == chat_id, Chat.delivery_status.is_not(None))
    # Locked, so read afresh: a claim's bulk update may have moved it meanwhile.
    stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def earlier_texts_due(session: Session, *, chat: Chat) -> datetime | None:
    """When the texts of the same session stored before ``chat`` and still queued or being
    sent are due (the latest of them), or None when there are none."""
    if chat.session_id is None:
        return None
    earlier = aliased(Chat)
    stmt = select(func.count(), func.max(earlier.due_at)).where(
        earlier.session_id == chat.session_id,
        earlier.delivery_status.in_(UNSETTLED),
        or_(
            earlier.created_at < chat.created_at,
            and_(earlier.created_at == chat.created_at, earlier.id < chat.id),
        ),
    )
    waiting, due = session.execute(stmt).one()
    if not waiting:
        return None
    return due or chat.created_at


# Per caller number: the texts in hand (leased to a task, or being sent) are counted against
# what may be claimed, so a number's tasks hold about ``ahead`` seconds of its rate, never a
# herd of tasks that find no rate slot and come back every second.
_CLAIM_DUE_TEXTS = text(
    """
    WITH numbers AS (
        SELECT DISTINCT org_id, phone_number_id FROM chats
        WHERE delivery_status = 'queued' AND due_at <= :now
    ),
    room AS (
        SELECT n.org_id, n.phone_number_id,
            ceil(coalesce(p.messages_per_second, :default_rate) * :ahead)::int - (
                SELECT count(*) FROM chats h
                WHERE h.org_id = n.org_id
                  AND h.phone_number_id IS NOT DISTINCT FROM n.phone_number_id
                  AND ((h.delivery_status = 'queued' AND h.due_at > :now
                        AND h.due_at <= :lease_until)
                       OR (h.delivery_status = 'sending'
                           AND coalesce(h.sent_at, h.updated_at) > :recent))
            ) AS room
        FROM numbers n
        LEFT JOIN phone_numbers p
          ON p.org_id = n.org_id AND p.provider_phone_number_id = n.phone_number_id
    ),
    due AS (
        SELECT d.id FROM room r
        CROSS JOIN LATERAL (
            SELECT c.id FROM chats c
            WHERE c.org_id = r.org_id
              AND c.phone_number_id IS NOT DISTINCT FROM r.phone_number_id
              AND c.delivery_status = 'queued' AND c.due_at <= :now
            ORDER BY c.due_at
            LIMIT greatest(r.room, 0)
            FOR UPDATE SKIP LOCKED
        ) d
        LIMIT :limit
    )
    UPDATE chats SET due_at = :lease_until FROM due WHERE chats.id = due.id
    RETURNING chats.id
    """
)


def claim_due_texts(
    session: Session,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
    ahead_seconds: float = 2.0,
    default_rate: float = 1.0,
) -> list[uuid.UUID]:
    """Queued texts whose time has come, earliest first, leased until ``lease_until``: per
    caller number at most ``ahead_seconds`` of its messages per second, less its texts
    already in hand."""
    params = {
        "now": now,
        "lease_until": lease_until,
        "limit": limit,
        "ahead": ahead_seconds,
        "default_rate": default_rate,
        "recent": now - timedelta(minutes=1),
    }
    return list(session.scalars(_CLAIM_DUE_TEXTS, params))


StuckText = Row[uuid.UUID, datetime | None, str | None]


def claim_stuck_texts(
    session: Session, *, now: datetime, left_before: datetime, lease: timedelta, limit: int
) -> Sequence[StuckText]:
    """Texts being sent whose create can no longer be under way (its answer was lost, or its
    worker died): ``(chat id, sent_at, the session's provider id)``, each kept from other
    sweeps for ``lease`` (``due_at`` of a text being sent is when it is next looked up)."""
    stuck = (
        select(Chat.id)
        .where(
            Chat.delivery_status == TextStatus.SENDING,
            func.coalesce(Chat.sent_at, Chat.updated_at) < left_before,
            or_(Chat.due_at.is_(None), Chat.due_at <= now),
        )
        .order_by(Chat.sent_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = list(
        session.scalars(
            update(Chat)
            .where(Chat.id.in_(stuck))
            .values(due_at=now + lease)
            .returning(Chat.id)
            .execution_options(synchronize_session=False)
        )
    )
    stmt = (
        select(Chat.id, Chat.sent_at, ChatSession.provider_session_id)
        .outerjoin(ChatSession, ChatSession.id == Chat.session_id)
        .where(Chat.id.in_(claimed))
        .order_by(Chat.sent_at)
    )
    return session.execute(stmt).all()


def claim_silent_sessions(
    session: Session, *, now: datetime, silence: timedelta, limit: int
) -> list[ChatSession]:
    """Active sessions the provider knows that have had no news for ``silence``, least recently
    heard first; each is marked polled now, so other sweeps leave it for another ``silence``."""
    heard = func.coalesce(ChatSession.provider_synced_at, ChatSession.created_at)
    stmt = (
        select(ChatSession)
        .where(
            ChatSession.status == SessionStatus.ACTIVE,
            ChatSession.provider_session_id.is_not(None),
            heard < now - silence,
        )
        .order_by(ChatSession.provider_synced_at.asc().nulls_first())
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    silent = list(session.scalars(stmt))
    for chat_session in silent:
        chat_session.provider_synced_at = now
    return silent


def expire_sessions(
    session: Session, *, now: datetime, default_seconds: int, limit: int
) -> list[uuid.UUID]:
    """Active sessions silent past their ``expirationSeconds``, with no text still queued or
    being sent in them, end ``completed``."""
    last = func.coalesce(ChatSession.last_activity_at, ChatSession.created_at)
    seconds = func.coalesce(ChatSession.expiration_seconds, default_seconds)
    expired = (
        select(ChatSession.id)
        .where(
            ChatSession.status == SessionStatus.ACTIVE,
            last + func.make_interval(0, 0, 0, 0, 0, 0, seconds) < now,
            # A text still to go out reopens it at the provider: it is not over yet.
            ~exists().where(Chat.session_id == ChatSession.id, Chat.delivery_status.in_(UNSETTLED)),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(ChatSession)
        .where(ChatSession.id.in_(expired))
        .values(status=SessionStatus.COMPLETED, updated_at=now)
        .returning(ChatSession.id)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(stmt))


def get_session_for_update(session: Session, *, session_id: uuid.UUID) -> ChatSession | None:
    stmt = (
        select(ChatSession)
        .where(ChatSession.id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).first()


def waiting_texts(session: Session) -> dict[TextStatus, int]:
    """Texts ``queued`` and ``sending`` now (every org), each read from its partial index."""
    counts = {
        status: select(func.count()).select_from(Chat).where(Chat.delivery_status == status)
        for status in (TextStatus.QUEUED, TextStatus.SENDING)
    }
    return {status: int(session.scalar(query) or 0) for status, query in counts.items()}
