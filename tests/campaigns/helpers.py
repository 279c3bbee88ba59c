"""Shared steps of the campaign API tests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from orchestrator.campaigns.counter_repository import bump_counters, counters_of
from orchestrator.models import Campaign, CampaignCounterShard, CampaignStatus, Contact
from tests.factories import campaign_body


def row_counts(session: Session) -> tuple[int, int]:
    """Campaign and contact rows, read from the database rather than from the session."""
    campaigns = session.scalar(select(func.count()).select_from(Campaign))
    contacts = session.scalar(select(func.count()).select_from(Contact))
    return int(campaigns or 0), int(contacts or 0)


def create_campaign(api: TestClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    customers = body.pop("customer_count", 3)
    response = api.post("/campaign", json=campaign_body(customers=customers, **body), headers=auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def force_campaign(session: Session, campaign_id: str, **values: Any) -> None:
    """Put a campaign where a test needs it (a status, timestamps) without the scheduler."""
    session.execute(update(Campaign).where(Campaign.id == uuid.UUID(campaign_id)).values(**values))
    session.flush()
    session.expire_all()


def force_counters(session: Session, campaign_id: str, **values: int) -> None:
    """Set counters to these values (a delta from what they sum to now, like any change)."""
    parsed = uuid.UUID(campaign_id)
    current = counters_of(session, campaign_ids=[parsed])[parsed].as_dict()
    bump_counters(
        session,
        campaign_id=parsed,
        deltas={name: value - current[name] for name, value in values.items()},
    )
    session.flush()
    session.expire_all()


def add_to_shard(session: Session, campaign_id: uuid.UUID, shard: int, **deltas: int) -> None:
    """Change one shard row directly, as a bug or a manual edit would (drift, when unmatched)."""
    table = CampaignCounterShard.__table__
    session.execute(
        update(CampaignCounterShard)
        .where(CampaignCounterShard.campaign_id == campaign_id, CampaignCounterShard.shard == shard)
        .values({name: table.c[name] + delta for name, delta in deltas.items()})
    )


def start_campaign(session: Session, campaign_id: str) -> None:
    force_campaign(session, campaign_id, status=CampaignStatus.IN_PROGRESS)


def contact_statuses(session: Session, campaign_id: str) -> list[str]:
    rows = session.scalars(
        select(Contact.status)
        .where(Contact.campaign_id == uuid.UUID(campaign_id))
        .order_by(Contact.position)
    )
    return [str(status) for status in rows]


def error_messages(response: Response, status_code: int) -> Any:
    """The ``message`` of an error answer, after checking it is in Vapi's NestJS shape."""
    assert response.status_code == status_code, response.text
    body = response.json()
    assert set(body) == {"statusCode", "error", "message"}
    assert body["statusCode"] == status_code
    phrases = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
    assert body["error"] == phrases[status_code]
    return body["message"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
