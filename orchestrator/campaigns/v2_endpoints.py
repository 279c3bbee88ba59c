"""Vapi's v2 campaign endpoints: ``/v2/campaign`` and a campaign's contacts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from orchestrator.campaigns import service, v2_service
from orchestrator.campaigns.schemas import CampaignOut, UpdateCampaignIn
from orchestrator.campaigns.v2_schemas import (
    CampaignContactPageOut,
    CampaignSummaryOut,
    CampaignSummaryPageOut,
    CampaignV2ListQuery,
    CampaignV2Query,
    ContactListQuery,
    CreateCampaignV2In,
)
from orchestrator.db import SessionDep
from orchestrator.exceptions import error_responses
from orchestrator.orgs.auth import CallerDep

router = APIRouter(tags=["Campaigns v2"])


@router.post(
    "/v2/campaign",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401),
)
def create_campaign_v2(body: CreateCampaignV2In, caller: CallerDep, session: SessionDep) -> Any:
    return v2_service.create_campaign(session, org_id=caller.org_id, body=body)


@router.get(
    "/v2/campaign",
    response_model=CampaignSummaryPageOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401),
)
def list_campaigns_v2(
    query: Annotated[CampaignV2ListQuery, Query()], caller: CallerDep, session: SessionDep
) -> Any:
    return v2_service.list_campaigns(session, org_id=caller.org_id, query=query)


@router.get(
    "/v2/campaign/{campaign_id}",
    response_model=CampaignSummaryOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 404),
)
def get_campaign_v2(
    campaign_id: str,
    query: Annotated[CampaignV2Query, Query()],
    caller: CallerDep,
    session: SessionDep,
) -> Any:
    return v2_service.get_campaign(
        session,
        org_id=caller.org_id,
        campaign_id=campaign_id,
        include_counters=query.include_counters,
    )


@router.patch(
    "/v2/campaign/{campaign_id}",
    response_model=CampaignOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 404),
)
def update_campaign_v2(
    campaign_id: str, body: UpdateCampaignIn, caller: CallerDep, session: SessionDep
) -> Any:
    return v2_service.update_campaign(
        session, org_id=caller.org_id, campaign_id=campaign_id, body=body
    )


@router.delete(
    "/v2/campaign/{campaign_id}",
    response_model=CampaignOut,
    response_model_exclude_unset=True,
    responses=error_responses(401, 404),
)
def delete_campaign_v2(campaign_id: str, caller: CallerDep, session: SessionDep) -> Any:
    """Cancels the campaign if it runs, then archives it (gone from lists and reads)."""
    return service.delete_campaign(session, org_id=caller.org_id, campaign_id=campaign_id)


@router.get(
    "/v2/campaign/{campaign_id}/contacts",
    response_model=CampaignContactPageOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 404),
)
def list_campaign_contacts_v2(
    campaign_id: str,
    query: Annotated[ContactListQuery, Query()],
    caller: CallerDep,
    session: SessionDep,
) -> Any:
    return v2_service.list_contacts(
        session, org_id=caller.org_id, campaign_id=campaign_id, query=query
    )
