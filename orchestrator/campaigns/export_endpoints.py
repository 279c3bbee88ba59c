"""Extension: ``GET /campaign/{id}/export``, a campaign's contacts and outcomes as CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from orchestrator.campaigns.export import csv_chunks, plan_export
from orchestrator.db import SessionDep, get_session
from orchestrator.exceptions import json_error_responses
from orchestrator.orgs.auth import CallerDep

router = APIRouter(tags=["Campaigns"])

# A session that lives until the answer is sent: the rows are read while the body streams
# (the request's own session commits when the endpoint returns, before the first chunk).
StreamSessionDep = Annotated[Session, Depends(get_session, scope="request")]


class CsvResponse(StreamingResponse):
    media_type = "text/csv"


@router.get(
    "/campaign/{campaign_id}/export",
    response_class=CsvResponse,
    responses={
        200: {
            "description": "Every contact of the campaign in dial order, one CSV row each.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **json_error_responses(401, 404),
    },
)
def export_campaign(
    campaign_id: str, caller: CallerDep, session: SessionDep, stream: StreamSessionDep
) -> CsvResponse:
    """The campaign's contacts with their outcome, as CSV, streamed in dial order: the
    customer's columns, status, skip reason, attempts, the last call (id, ``endedReason``,
    start, end, duration, cost, the analysis summary), the last text's status, and one
    column per variable."""
    plan = plan_export(session, org_id=caller.org_id, campaign_id=campaign_id)
    filename = f"campaign-{plan.campaign_id}.csv"
    return CsvResponse(
        csv_chunks(stream, plan=plan),
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
