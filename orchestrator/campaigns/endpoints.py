"""Vapi's v1 campaign endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from orchestrator.campaigns import service
from orchestrator.campaigns.schemas import (
    CampaignListQuery,
    CampaignOut,
    CampaignPageOut,
    CreateCampaignIn,
    ReconcileOut,
    UpdateCampaignIn,
)
from orchestrator.db import SessionDep
from orchestrator.exceptions import error_responses
from orchestrator.orgs.auth import CallerDep

router = APIRouter(tags=["Campaigns"])


@router.post(
    "/campaign",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401),
)
def create_campaign(body: CreateCampaignIn, caller: CallerDep, session: SessionDep) -> Any:
    return service.create_campaign(session, org_id=caller.org_id, body=body)


@router.get(
    "/campaign",
    response_model=CampaignPageOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401),
)
def list_campaigns(
    query: Annotated[CampaignListQuery, Query()], caller: CallerDep, session: SessionDep
) -> Any:
    return service.list_campaigns(session, org_id=caller.org_id, query=query)


@router.get(
    "/campaign/{campaign_id}",
    response_model=CampaignOut,
    response_model_exclude_unset=True,
    responses=error_responses(401, 404),
)
def get_campaign(campaign_id: str, caller: CallerDep, session: SessionDep) -> Any:
    return service.get_campaign(session, org_id=caller.org_id, campaign_id=campaign_id)


@router.patch(
    "/campaign/{campaign_id}",
    response_model=CampaignOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 404),
)
def update_campaign(
    campaign_id: str, body: UpdateCampaignIn, caller: CallerDep, session: SessionDep
) -> Any:
    return service.update_campaign(
        session, org_id=caller.org_id, campaign_id=campaign_id, body=body
    )


@router.delete(
    "/campaign/{campaign_id}",
    response_model=CampaignOut,
    response_model_exclude_unset=True,
    responses=error_responses(401, 404),
)
def delete_campaign(campaign_id: str, caller: CallerDep, session: SessionDep) -> Any:
    return service.delete_campaign(session, org_id=caller.org_id, campaign_id=campaign_id)


@router.post(
    "/campaign/{campaign_id}/reconcile",
    response_model=ReconcileOut,
    response_model_exclude_unset=True,
    responses=error_responses(401, 404),
)
def reconcile_campaign(campaign_id: str, caller: CallerDep, session: SessionDep) -> Any:
    """Extension: recount the campaign's counters from its rows and correct any drift."""
    return service.reconcile(session, org_id=caller.org_id, campaign_id=campaign_id)
