"""Vapi's v1 campaign endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from orchestrator.campaigns import service
from orchestrator.campaigns.schemas import CampaignListQuery, CreateCampaignIn, UpdateCampaignIn
from orchestrator.db import SessionDep
from orchestrator.orgs.auth import CallerDep

router = APIRouter(tags=["Campaigns"])


@router.post("/campaign", status_code=status.HTTP_201_CREATED)
def create_campaign(body: CreateCampaignIn, caller: CallerDep, session: SessionDep) -> Any:
    return service.create_campaign(session, org_id=caller.org_id, body=body)


@router.get("/campaign")
def list_campaigns(
    query: Annotated[CampaignListQuery, Query()], caller: CallerDep, session: SessionDep
) -> Any:
    return service.list_campaigns(session, org_id=caller.org_id, query=query)


@router.get("/campaign/{campaign_id}")
def get_campaign(campaign_id: str, caller: CallerDep, session: SessionDep) -> Any:
    return service.get_campaign(session, org_id=caller.org_id, campaign_id=campaign_id)


@router.patch("/campaign/{campaign_id}")
def update_campaign(
    campaign_id: str, body: UpdateCampaignIn, caller: CallerDep, session: SessionDep
) -> Any:
    return service.update_campaign(
        session, org_id=caller.org_id, campaign_id=campaign_id, body=body
    )


@router.delete("/campaign/{campaign_id}")
def delete_campaign(campaign_id: str, caller: CallerDep, session: SessionDep) -> Any:
    return service.delete_campaign(session, org_id=caller.org_id, campaign_id=campaign_id)


@router.post("/campaign/{campaign_id}/reconcile")
def reconcile_campaign(campaign_id: str, caller: CallerDep, session: SessionDep) -> Any:
    """Extension: recount the campaign's counters from its rows and correct any drift."""
    return service.reconcile(session, org_id=caller.org_id, campaign_id=campaign_id)
