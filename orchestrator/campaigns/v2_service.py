"""Vapi's v2 campaign use cases. Writes are v1's (one campaign table serves both versions);
reads answer v2's shapes. Services never commit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.campaigns import counter_repository, repository, service, text_repository
from orchestrator.campaigns.counters import contacts_in
from orchestrator.campaigns.presence import v2_presence_errors
from orchestrator.campaigns.schemas import UpdateCampaignIn
from orchestrator.campaigns.v2_schemas import (
    CampaignV2ListQuery,
    ContactListQuery,
    ContactSortBy,
    CreateCampaignV2In,
    v2_update_errors,
)
from orchestrator.campaigns.v2_wire import contact_page_to_wire, summary_to_wire
from orchestrator.campaigns.wire import list_envelope
from orchestrator.clock import utcnow
from orchestrator.contacts import listing_repository
from orchestrator.contacts.states import ContactStatus
from orchestrator.models import Org
from orchestrator.scheduling.insight import pacing_insight

NO_CALLS = (0, 0)


def create_campaign(
    session: Session, *, org_id: uuid.UUID, body: CreateCampaignV2In
) -> dict[str, Any]:
    return service.create_campaign(session, org_id=org_id, body=body, rules=v2_presence_errors)


def update_campaign(
    session: Session, *, org_id: uuid.UUID, campaign_id: str, body: UpdateCampaignIn
) -> dict[str, Any]:
    return service.update_campaign(
        session, org_id=org_id, campaign_id=campaign_id, body=body, rules=v2_update_errors
    )


def list_campaigns(
    session: Session, *, org_id: uuid.UUID, query: CampaignV2ListQuery
) -> dict[str, Any]:
    """A page of ``CampaignSummary``; the counters (three queries for the page) when asked."""
    campaigns, total = repository.list_campaigns(session, org_id=org_id, query=query)
    if not query.include_counters:
        results = [summary_to_wire(campaign) for campaign in campaigns]
        return list_envelope(results, total=total, query=query)
    ids = [campaign.id for campaign in campaigns]
    counters = counter_repository.counters_of(session, campaign_ids=ids)
    metrics = repository.call_metrics(session, campaign_ids=ids)
    results = [
        summary_to_wire(c, counters=counters[c.id], call_metrics=metrics.get(c.id, NO_CALLS))
        for c in campaigns
    ]
    return list_envelope(results, total=total, query=query)


def get_campaign(
    session: Session, *, org_id: uuid.UUID, campaign_id: str, include_counters: bool
) -> dict[str, Any]:
    campaign = service.require_campaign(session, org_id, campaign_id, lock=False)
    if not include_counters:
        return summary_to_wire(campaign)
    counters = counter_repository.counters_of(session, campaign_ids=[campaign.id])[campaign.id]
    metrics = repository.call_metrics(session, campaign_ids=[campaign.id])
    org = session.get(Org, campaign.org_id)
    pacing = (
        pacing_insight(session, campaign=campaign, org=org, now=utcnow(), counters=counters)
        if org is not None
        else None
    )
    return summary_to_wire(
        campaign,
        counters=counters,
        call_metrics=metrics.get(campaign.id, NO_CALLS),
        pacing=pacing,
        sms_counters=service.sms_counters_of(session, campaign),
    )


def list_contacts(
    session: Session, *, org_id: uuid.UUID, campaign_id: str, query: ContactListQuery
) -> dict[str, Any]:
    """``GET /v2/campaign/{id}/contacts``: a page of the campaign's contacts and their outcome.

    How many contacts each status has comes from the campaign's counters, which are exact
    (contacts and counters change in one transaction): counting a million rows for every page
    would cost more than reading the page.
    """
    campaign = service.require_campaign(session, org_id, campaign_id, lock=False)
    counters = counter_repository.counters_of(session, campaign_ids=[campaign.id])[campaign.id]
    counts = {status: max(contacts_in(counters, status), 0) for status in ContactStatus}
    statuses = query.statuses()
    contacts = listing_repository.contacts_page(
        session,
        campaign_id=campaign.id,
        statuses=statuses,
        order="status" if query.sort_by == ContactSortBy.STATUS else "position",
        counts=counts,
        offset=(query.page - 1) * query.limit,
        limit=query.limit,
    )
    total = sum(count for status, count in counts.items() if not statuses or status in statuses)
    texts = text_repository.last_texts(session, contact_ids=[contact.id for contact in contacts])
    return contact_page_to_wire(
        contacts, total=total, limit=query.limit, page=query.page, last_texts=texts
    )
