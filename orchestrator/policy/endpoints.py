"""The org's compliance policy (extension): frequency caps, default calling-hours profile,
opt-out plan."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from orchestrator.db import SessionDep
from orchestrator.exceptions import error_responses
from orchestrator.orgs.auth import CallerDep
from orchestrator.policy import service
from orchestrator.policy.schemas import PolicyIn, PolicyOut

router = APIRouter(tags=["Policy"])


@router.get(
    "/policy",
    response_model=PolicyOut,
    response_model_exclude_unset=True,
    responses=error_responses(401),
)
def get_policy(caller: CallerDep, session: SessionDep) -> Any:
    return service.get_policy(session, org_id=caller.org_id)


@router.put(
    "/policy",
    response_model=PolicyOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401),
)
def put_policy(body: PolicyIn, caller: CallerDep, session: SessionDep) -> Any:
    return service.put_policy(session, org_id=caller.org_id, body=body)
