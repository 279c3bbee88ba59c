"""Queries for sessions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from orchestrator.campaigns.schemas import SortBy, SortOrder
from orchestrator.chats.repository import ids_filter, names
from orchestrator.listing import time_range_filters
from orchestrator.models import Chat, ChatSession, TextStatus
from orchestrator.sessions.schemas import SessionListQuery
from orchestrator.suppression.numbers import canonical_number


def _filters(org_id: uuid.UUID, query: SessionListQuery) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = [ChatSession.org_id == org_id]
    for written in (query.id, query.id_any):
        if written is not None:
            filters.append(ids_filter(ChatSession.id, written))
    equal = {
        ChatSession.name: query.name,
        ChatSession.assistant_id: query.assistant_id,
        ChatSession.squad_id: query.squad_id,
        ChatSession.phone_number_id: query.phone_number_id,
    }
    filters += [column == value for column, value in equal.items() if value is not None]
    if query.assistant_id_any is not None:
        filters.append(ChatSession.assistant_id.in_(names(query.assistant_id_any)))
    if query.phone_number_id_any is not None:
        given = [name for item in query.phone_number_id_any for name in names(item)]
        filters.append(ChatSession.phone_number_id.in_(given))
    if query.customer_number_any is not None:
        numbers = [canonical_number(n) or n for n in names(query.customer_number_any)]
        filters.append(ChatSession.customer_number.in_(numbers))
    filters.extend(time_range_filters(ChatSession, query))
    return filters


def list_sessions(
    session: Session, *, org_id: uuid.UUID, query: SessionListQuery
) -> tuple[list[ChatSession], int]:
    filters = _filters(org_id, query)
    total = session.scalar(select(func.count()).select_from(ChatSession).where(*filters)) or 0
    # A session's duration is not kept: ``duration`` sorts by creation, as ``createdAt`` does.
    column: Any = ChatSession.cost if query.sort_by == SortBy.COST else ChatSession.created_at
    ascending = query.sort_order == SortOrder.ASC
    order = column.asc().nulls_first() if ascending else column.desc().nulls_last()
    stmt = (
        select(ChatSession)
        .where(*filters)
        .order_by(order, ChatSession.id)
        .offset((query.page - 1) * query.limit)
        .limit(query.limit)
    )
    return list(session.scalars(stmt)), int(total)


def get_session_for_org(
    session: Session, *, org_id: uuid.UUID, session_id: uuid.UUID, for_update: bool = False
) -> ChatSession | None:
    stmt = select(ChatSession).where(ChatSession.id == session_id, ChatSession.org_id == org_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()


def find_by_provider_id(
    session: Session, *, org_id: uuid.UUID, provider_session_id: str
) -> ChatSession | None:
    stmt = select(ChatSession).where(
        ChatSession.org_id == org_id, ChatSession.provider_session_id == provider_session_id
    )
    return session.scalars(stmt).one_or_none()


def add_session(session: Session, row: ChatSession) -> None:
    session.add(row)
    session.flush()


def delete_session(session: Session, row: ChatSession) -> None:
    session.delete(row)
    session.flush()


def queued_texts_of(session: Session, *, session_id: uuid.UUID) -> Sequence[Chat]:
    """Its texts not yet sent, locked in id order."""
    stmt = (
        select(Chat)
        .where(Chat.session_id == session_id, Chat.delivery_status == TextStatus.QUEUED)
        .order_by(Chat.id)
        .with_for_update()
    )
    return session.scalars(stmt.execution_options(populate_existing=True)).all()


def has_text_sending(session: Session, *, session_id: uuid.UUID) -> bool:
    stmt = select(Chat.id).where(
        Chat.session_id == session_id, Chat.delivery_status == TextStatus.SENDING
    )
    return session.scalars(stmt.limit(1)).first() is not None


def touch(session: Session, *, session_id: uuid.UUID, now: datetime) -> None:
    """A message went out in it: its silence starts again."""
    session.execute(
        update(ChatSession)
        .where(ChatSession.id == session_id)
        .values(last_activity_at=now, updated_at=now)
    )
