"""Vapi's session endpoints (``/session``, ``/session/{id}``), kept in step with the provider:
a create, change or delete is made there first; when the provider refuses (400), fails (502)
or cannot be reached (503), nothing changes here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from orchestrator.chats.endpoints import ProviderChatsDep
from orchestrator.clock import utcnow
from orchestrator.db import SessionDep
from orchestrator.exceptions import error_responses
from orchestrator.flows import forward_sessions
from orchestrator.orgs.auth import CallerDep
from orchestrator.sessions import service
from orchestrator.sessions.schemas import (
    CreateSessionIn,
    SessionListQuery,
    SessionOut,
    SessionPageOut,
    UpdateSessionIn,
)
from orchestrator.sessions.wire import session_to_wire

router = APIRouter(tags=["Sessions"])


@router.post(
    "/session",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 502, 503),
)
def create_session(
    body: CreateSessionIn, caller: CallerDep, session: SessionDep, provider: ProviderChatsDep
) -> Any:
    return forward_sessions.create_session(
        session, provider=provider, org_id=caller.org_id, body=body
    )


@router.get(
    "/session",
    response_model=SessionPageOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401),
)
def list_sessions(
    query: Annotated[SessionListQuery, Query()], caller: CallerDep, session: SessionDep
) -> Any:
    """A session silent for longer than its ``expirationSeconds`` shows ``completed``."""
    return service.list_sessions(session, org_id=caller.org_id, query=query, now=utcnow())


@router.get(
    "/session/{session_id}",
    response_model=SessionOut,
    response_model_exclude_unset=True,
    responses=error_responses(401, 404),
)
def get_session(session_id: str, caller: CallerDep, session: SessionDep) -> Any:
    row = service.require_session(session, org_id=caller.org_id, session_id=session_id)
    return session_to_wire(row, now=utcnow())


@router.patch(
    "/session/{session_id}",
    response_model=SessionOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 404, 502, 503),
)
def update_session(
    session_id: str,
    body: UpdateSessionIn,
    caller: CallerDep,
    session: SessionDep,
    provider: ProviderChatsDep,
) -> Any:
    return forward_sessions.update_session(
        session, provider=provider, org_id=caller.org_id, session_id=session_id, body=body
    )


@router.delete(
    "/session/{session_id}",
    response_model=SessionOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 404, 502, 503),
)
def delete_session(
    session_id: str, caller: CallerDep, session: SessionDep, provider: ProviderChatsDep
) -> Any:
    """Its texts not yet sent are withdrawn and never sent."""
    return forward_sessions.delete_session(
        session, provider=provider, org_id=caller.org_id, session_id=session_id
    )
