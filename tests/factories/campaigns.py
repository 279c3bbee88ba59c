"""Campaigns: request bodies, campaigns made as ``POST /campaign`` makes them, states forced
where a test needs them, and their rows read back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from orchestrator.campaigns.counter_repository import bump_counters, counters_of
from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Campaign, CampaignCounterShard, CampaignStatus, Contact
from orchestrator.orgs.service import CreatedOrg
from tests.factories.contacts import customer_numbers


def campaign_body(
    *, customers: int | list[dict[str, Any]] = 3, phone_number_id: str = "phone-1", **extra: Any
) -> dict[str, Any]:
    if isinstance(customers, int):
        customers = [{"number": n} for n in customer_numbers(customers)]
    body: dict[str, Any] = {
        "name": "Spring reminders",
        "assistantId": "assistant-1",
        "phoneNumberId": phone_number_id,
        "customers": customers,
    }
    body.update(extra)
    return body


def make_campaign(session: Session, *, org: CreatedOrg, **body: Any) -> uuid.UUID:
    """A campaign created through the service, as ``POST /campaign`` would."""
    from orchestrator.campaigns.schemas import CreateCampaignIn
    from orchestrator.campaigns.service import create_campaign

    customers = body.pop("customers", 3)
    payload = campaign_body(customers=customers, **body)
    created = create_campaign(
        session, org_id=org.org_id, body=CreateCampaignIn.model_validate(payload)
    )
    return uuid.UUID(created["id"])


def post_campaign(api: httpx.Client, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    """A campaign created over HTTP (``campaign_body`` of ``body``); its answer."""
    response = api.post("/campaign", json=campaign_body(**body), headers=auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def row_counts(session: Session) -> tuple[int, int]:
    """Campaign and contact rows, read from the database rather than from the session."""
    campaigns = session.scalar(select(func.count()).select_from(Campaign))
    contacts = session.scalar(select(func.count()).select_from(Contact))
    return int(campaigns or 0), int(contacts or 0)


def force_campaign(session: Session, *, campaign_id: str, **values: Any) -> None:
    """Put a campaign where a test needs it (a status, timestamps) without the scheduler."""
    session.execute(update(Campaign).where(Campaign.id == uuid.UUID(campaign_id)).values(**values))
    session.flush()
    session.expire_all()


def force_counters(session: Session, *, campaign_id: str, **values: int) -> None:
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


def add_to_shard(session: Session, *, campaign_id: uuid.UUID, shard: int, **deltas: int) -> None:
    """Change one shard row directly, as a bug or a manual edit would (drift, when unmatched)."""
    table = CampaignCounterShard.__table__
    session.execute(
        update(CampaignCounterShard)
        .where(CampaignCounterShard.campaign_id == campaign_id, CampaignCounterShard.shard == shard)
        .values({name: table.c[name] + delta for name, delta in deltas.items()})
    )


def start_campaign(session: Session, *, campaign_id: str) -> None:
    force_campaign(session, campaign_id=campaign_id, status=CampaignStatus.IN_PROGRESS)


def contact_statuses(session: Session, *, campaign_id: str) -> list[str]:
    rows = session.scalars(
        select(Contact.status)
        .where(Contact.campaign_id == uuid.UUID(campaign_id))
        .order_by(Contact.position)
    )
    return [str(status) for status in rows]


def campaign_of(session: Session, *, campaign_id: uuid.UUID) -> Campaign:
    """The campaign as the database holds it now."""
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    assert campaign is not None
    return campaign


def campaign_drift(session: Session, *, campaign_id: uuid.UUID) -> dict[str, Any]:
    """How far the campaign's counters are from a recount of its rows (empty: exact)."""
    drift: dict[str, Any] = counter_drift(
        session, campaign=campaign_of(session, campaign_id=campaign_id)
    )
    return drift


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
