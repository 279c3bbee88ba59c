"""Queries for chats."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.orm import Session

from orchestrator.campaigns.schemas import SortBy, SortOrder
from orchestrator.chats.schemas import ChatListQuery
from orchestrator.listing import time_range_filters
from orchestrator.models import Chat


def parse_ids(written: str) -> list[uuid.UUID]:
    """The UUIDs in a comma-separated list; an item that is not one names nothing of ours."""
    found = []
    for item in written.split(","):
        try:
            found.append(uuid.UUID(item.strip()))
        except ValueError:
            continue
    return found


def ids_filter(column: Any, written: str) -> ColumnElement[bool]:
    ids = parse_ids(written)
    return column.in_(ids) if ids else false()


def names(written: str) -> list[str]:
    return [item.strip() for item in written.split(",") if item.strip()]


def _filters(org_id: uuid.UUID, query: ChatListQuery) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = [Chat.org_id == org_id]
    by_id = {
        Chat.id: (query.id, query.id_any),
        Chat.session_id: (query.session_id, None),
        Chat.previous_chat_id: (query.previous_chat_id, None),
    }
    for column, (one, many) in by_id.items():
        if one is not None:
            filters.append(ids_filter(column, one))
        if many is not None:
            filters.append(ids_filter(column, many))
    if query.assistant_id is not None:
        filters.append(Chat.assistant_id == query.assistant_id)
    if query.assistant_id_any is not None:
        filters.append(Chat.assistant_id.in_(names(query.assistant_id_any)))
    if query.squad_id is not None:
        filters.append(Chat.squad_id == query.squad_id)
    filters.extend(time_range_filters(Chat, query))
    return filters


def list_chats(
    session: Session, *, org_id: uuid.UUID, query: ChatListQuery
) -> tuple[list[Chat], int]:
    filters = _filters(org_id, query)
    total = session.scalar(select(func.count()).select_from(Chat).where(*filters)) or 0
    # A chat has no duration: ``duration`` sorts by creation, as ``createdAt`` does.
    column: Any = Chat.cost if query.sort_by == SortBy.COST else Chat.created_at
    ascending = query.sort_order == SortOrder.ASC
    order = column.asc().nulls_first() if ascending else column.desc().nulls_last()
    stmt = (
        select(Chat)
        .where(*filters)
        .order_by(order, Chat.id)
        .offset((query.page - 1) * query.limit)
        .limit(query.limit)
    )
    return list(session.scalars(stmt)), int(total)


def get_chat_for_org(
    session: Session, *, org_id: uuid.UUID, chat_id: uuid.UUID, for_update: bool = False
) -> Chat | None:
    stmt = select(Chat).where(Chat.id == chat_id, Chat.org_id == org_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()


def add_chat(session: Session, chat: Chat) -> None:
    session.add(chat)
    session.flush()


def delete_chat(session: Session, chat: Chat) -> None:
    session.delete(chat)
    session.flush()
