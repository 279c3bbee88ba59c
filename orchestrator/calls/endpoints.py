"""Vapi's call endpoints (``/call``, ``/call/{id}``) for calls made outside campaigns.

The request's transaction commits before the answer goes out (``SessionDep``), so the
dispatch enqueued after the answer finds the new calls committed.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Query, status

from orchestrator.calls import direct
from orchestrator.calls.schemas import (
    CallBatchOut,
    CallListQuery,
    CallOut,
    CreateCallIn,
    DeleteCallIn,
    UpdateCallIn,
)
from orchestrator.db import SessionDep
from orchestrator.exceptions import error_responses
from orchestrator.orgs.auth import CallerDep
from workers.tasks import enqueue_org_dispatch

logger = logging.getLogger(__name__)
router = APIRouter(tags=["Calls"])


def dispatch_soon(org_id: uuid.UUID) -> None:
    """New calls are dialed at once when the limits allow, rather than at the next tick."""
    try:
        enqueue_org_dispatch(org_id)
    except Exception:  # a failed enqueue only delays: the next tick dispatches anyway
        logger.warning("could not enqueue dispatch for org %s", org_id, exc_info=True)


@router.post(
    "/call",
    status_code=status.HTTP_201_CREATED,
    response_model=CallOut | CallBatchOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401),
)
def create_call(
    body: CreateCallIn, caller: CallerDep, session: SessionDep, background: BackgroundTasks
) -> Any:
    created = direct.create_direct_calls(session, org_id=caller.org_id, body=body)
    background.add_task(dispatch_soon, caller.org_id)
    return created


@router.get(
    "/call",
    response_model=list[CallOut],
    response_model_exclude_unset=True,
    responses=error_responses(400, 401),
)
def list_calls(
    query: Annotated[CallListQuery, Query()], caller: CallerDep, session: SessionDep
) -> Any:
    return direct.list_calls(session, org_id=caller.org_id, query=query)


@router.get(
    "/call/{call_id}",
    response_model=CallOut,
    response_model_exclude_unset=True,
    responses=error_responses(401, 404),
)
def get_call(call_id: str, caller: CallerDep, session: SessionDep) -> Any:
    return direct.get_call(session, org_id=caller.org_id, call_id=call_id)


@router.patch(
    "/call/{call_id}",
    response_model=CallOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 404),
)
def update_call(call_id: str, body: UpdateCallIn, caller: CallerDep, session: SessionDep) -> Any:
    return direct.rename_call(session, org_id=caller.org_id, call_id=call_id, body=body)


@router.delete(
    "/call/{call_id}",
    response_model=CallOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 404),
)
def delete_call(
    call_id: str,
    caller: CallerDep,
    session: SessionDep,
    body: Annotated[DeleteCallIn | None, Body()] = None,
) -> Any:
    return direct.delete_call(session, org_id=caller.org_id, call_id=call_id, body=body)
