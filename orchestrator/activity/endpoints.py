"""Extension: what a campaign's calls did over the last minutes (the dashboard's charts)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from orchestrator.activity import service
from orchestrator.activity.schemas import ActivityQuery, CampaignActivityOut
from orchestrator.clock import utcnow
from orchestrator.db import SessionDep
from orchestrator.exceptions import error_responses
from orchestrator.orgs.auth import CallerDep

router = APIRouter(tags=["Campaign activity"])


@router.get(
    "/campaign/{campaign_id}/activity",
    response_model=CampaignActivityOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 404),
)
def get_campaign_activity(
    campaign_id: str,
    query: Annotated[ActivityQuery, Query()],
    caller: CallerDep,
    session: SessionDep,
) -> Any:
    """Per bucket (10 s up to ten minutes): calls sent, calls ended and calls in flight at its
    end; the campaign's outcomes by endedReason and, if it texts, its texts."""
    return service.campaign_activity(
        session, org_id=caller.org_id, campaign_id=campaign_id, query=query, now=utcnow()
    )
