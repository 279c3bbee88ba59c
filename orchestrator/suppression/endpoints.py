"""Extension: each org's suppression list, the numbers it must never call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from orchestrator.db import SessionDep
from orchestrator.exceptions import error_responses
from orchestrator.orgs.auth import CallerDep
from orchestrator.suppression import service
from orchestrator.suppression.schemas import (
    AddSuppressionIn,
    AddSuppressionOut,
    SuppressionListQuery,
    SuppressionOut,
    SuppressionPageOut,
)

router = APIRouter(tags=["Suppression list"])


@router.post(
    "/suppression",
    response_model=AddSuppressionOut,
    responses=error_responses(400, 401),
)
def add_to_suppression_list(body: AddSuppressionIn, caller: CallerDep, session: SessionDep) -> Any:
    """Add numbers (up to 100,000): all of them, or none when one is not a valid number.

    Once this answers, no call to these numbers is sent until their entry expires.
    """
    return service.add_numbers(session, org_id=caller.org_id, body=body)


@router.get(
    "/suppression",
    response_model=SuppressionPageOut,
    responses=error_responses(400, 401),
)
def list_suppression_list(
    query: Annotated[SuppressionListQuery, Query()], caller: CallerDep, session: SessionDep
) -> Any:
    """The org's entries in number order, expired ones included (``active`` false)."""
    return service.list_entries(session, org_id=caller.org_id, query=query)


@router.get(
    "/suppression/{number}",
    response_model=SuppressionOut,
    responses=error_responses(401, 404),
)
def get_suppression_entry(number: str, caller: CallerDep, session: SessionDep) -> Any:
    """One number's entry (``+`` as is or as ``%2B``)."""
    return service.get_entry(session, org_id=caller.org_id, number=number)


@router.delete(
    "/suppression/{number}",
    response_model=SuppressionOut,
    responses=error_responses(401, 404),
)
def remove_suppression_entry(number: str, caller: CallerDep, session: SessionDep) -> Any:
    """Take a number off the list; the entry removed is answered."""
    return service.delete_entry(session, org_id=caller.org_id, number=number)
