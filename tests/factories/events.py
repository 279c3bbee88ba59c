"""Campaigns with a server to send events to, and the events recorded for them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.models import OutboxEvent
from orchestrator.orgs.service import CreatedOrg
from tests.factories.campaigns import make_campaign

RECEIVER_URL = "https://hooks.example.com/campaign-events"


def server_campaign(
    session: Session,
    *,
    org: CreatedOrg,
    url: str = RECEIVER_URL,
    server: dict[str, Any] | None = None,
    **body: Any,
) -> uuid.UUID:
    """A campaign whose events go to ``url`` (``server`` adds to its ``server``)."""
    return make_campaign(session, org=org, server={"url": url, **(server or {})}, **body)


def events_of(session: Session, *, campaign_id: uuid.UUID) -> list[OutboxEvent]:
    """The campaign's events in the order they were recorded, as the database holds them."""
    stmt = (
        select(OutboxEvent)
        .where(OutboxEvent.campaign_id == campaign_id)
        .order_by(OutboxEvent.ordinal)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def event_types(session: Session, *, campaign_id: uuid.UUID) -> list[str]:
    return [event.event_type for event in events_of(session, campaign_id=campaign_id)]
