"""Extension: a campaign's events to its server, and sending failed ones again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from orchestrator.db import SessionDep
from orchestrator.events import service
from orchestrator.events.schemas import (
    CampaignEventPageOut,
    EventListQuery,
    RedeliverIn,
    RedeliverOut,
)
from orchestrator.exceptions import error_responses
from orchestrator.orgs.auth import CallerDep

router = APIRouter(tags=["Campaign events"])


@router.get(
    "/campaign/{campaign_id}/events",
    response_model=CampaignEventPageOut,
    responses=error_responses(400, 401, 404),
)
def list_campaign_events(
    campaign_id: str,
    query: Annotated[EventListQuery, Query()],
    caller: CallerDep,
    session: SessionDep,
) -> Any:
    """The campaign's events in the order they happened, with their delivery status."""
    return service.list_events(session, org_id=caller.org_id, campaign_id=campaign_id, query=query)


@router.post(
    "/campaign/{campaign_id}/events/redeliver",
    response_model=RedeliverOut,
    responses=error_responses(400, 401, 404),
)
def redeliver_campaign_events(
    campaign_id: str,
    caller: CallerDep,
    session: SessionDep,
    body: Annotated[RedeliverIn | None, Body()] = None,
) -> Any:
    """Send the campaign's failed events again (or the ones named), from now on."""
    return service.redeliver_events(
        session, org_id=caller.org_id, campaign_id=campaign_id, body=body
    )
