"""``GET /v2/campaign/{id}/contacts/{contactId}`` (extension): why a contact was called, or not."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from orchestrator.db import SessionDep
from orchestrator.decisions import service
from orchestrator.decisions.schemas import ContactHistoryOut
from orchestrator.exceptions import error_responses
from orchestrator.orgs.auth import CallerDep

router = APIRouter(tags=["Campaigns v2"])


@router.get(
    "/v2/campaign/{campaign_id}/contacts/{contact_id}",
    response_model=ContactHistoryOut,
    response_model_exclude_unset=True,
    responses=error_responses(401, 404),
)
def get_campaign_contact_v2(
    campaign_id: str, contact_id: str, caller: CallerDep, session: SessionDep
) -> Any:
    """A contact of the campaign as the contacts listing shows it, its attempts (its calls, the
    first attempt first) and the decisions taken about it, oldest first: claimed, dialed,
    deferred (with why and until when), skipped, closed, pre-dial verdicts, suppressed."""
    return service.contact_history(
        session, org_id=caller.org_id, campaign_id=campaign_id, contact_id=contact_id
    )
