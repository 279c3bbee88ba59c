"""Sessions (Vapi's ``/session``) as stored here: finding, listing, changing. No commits here;
what the provider must hear goes through ``flows/forward_sessions.py``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.exceptions import NotFound, ValidationFailed, id_or_not_found
from orchestrator.listing import page_metadata
from orchestrator.models import ChatSession, SessionStatus
from orchestrator.sessions import repository
from orchestrator.sessions.schemas import SessionListQuery, UpdateSessionIn
from orchestrator.sessions.wire import effective_status, session_to_wire
from orchestrator.texts.withdrawal import withdraw_texts

NOT_FOUND = "Session not found"


def require_session(
    session: Session, *, org_id: uuid.UUID, session_id: str, lock: bool = False
) -> ChatSession:
    """The org's session, or a 404 (also for an id that is not a UUID)."""
    parsed = id_or_not_found(session_id, message=NOT_FOUND)
    found = repository.get_session_for_org(
        session, org_id=org_id, session_id=parsed, for_update=lock
    )
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


def continued_session(
    session: Session, *, org_id: uuid.UUID, session_id: str, now: datetime
) -> tuple[ChatSession | None, list[str]]:
    """The org's active session a chat continues, or why it cannot continue it."""
    try:
        parsed = uuid.UUID(session_id)
    except ValueError:
        parsed = None
    found = None
    if parsed is not None:
        found = repository.get_session_for_org(session, org_id=org_id, session_id=parsed)
    if found is None:
        return None, [f"sessionId {session_id} is not a session of this org"]
    if effective_status(found, now=now) != SessionStatus.ACTIVE:
        return None, [f"sessionId {session_id} is completed: only an active session continues"]
    return found, []


def list_sessions(
    session: Session, *, org_id: uuid.UUID, query: SessionListQuery, now: datetime
) -> dict[str, Any]:
    rows, total = repository.list_sessions(session, org_id=org_id, query=query)
    return {
        "results": [session_to_wire(row, now=now) for row in rows],
        "metadata": page_metadata(
            total=total, limit=query.limit, page=query.page, sort_order=query.sort_order.value
        ),
    }


def apply_update(row: ChatSession, *, body: UpdateSessionIn, now: datetime) -> None:
    """The given fields onto the row; a session made active again starts a new silence."""
    given = body.model_fields_set
    if "name" in given:
        row.name = body.name
    if "expiration_seconds" in given:
        row.expiration_seconds = body.expiration_seconds
    if "messages" in given and body.messages is not None:
        row.messages = list(body.messages)
    if "status" in given and body.status is not None:
        if body.status == SessionStatus.ACTIVE.value and row.status != SessionStatus.ACTIVE:
            row.last_activity_at = now
        row.status = SessionStatus(body.status)
    row.updated_at = now


def refuse_delete_while_sending(session: Session, *, session_id: uuid.UUID) -> None:
    """A 400 while one of its texts is being sent."""
    if repository.has_text_sending(session, session_id=session_id):
        raise ValidationFailed(
            [
                "a text of the session is being sent: the session can be deleted once the "
                "provider has answered for it"
            ]
        )


def withdraw_queued_texts(
    session: Session, *, session_id: uuid.UUID, reason: str, now: datetime
) -> None:
    """Its texts not yet sent will never be: each moves as ``WITHDRAW`` says, a campaign's
    contact is skipped."""
    chats = repository.queued_texts_of(session, session_id=session_id)
    withdraw_texts(session, chats=chats, reason=reason, now=now)
