"""Shared steps of the scheduling tests: dispatch an org, end its calls, read rows back."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.service import CallEnding, move_call
from orchestrator.models import Call, CallStatus, Campaign, Contact
from orchestrator.orgs.service import CreatedOrg
from orchestrator.phone_numbers.repository import upsert_pacing
from orchestrator.scheduling.service import dispatch_org


def dispatch(session: Session, org: CreatedOrg, now: datetime) -> list[uuid.UUID]:
    return dispatch_org(session, org_id=org.org_id, now=now, batch_limit=500).call_ids


def fast_caller_number(
    session: Session,
    org: CreatedOrg,
    caller_number_id: str = "phone-1",
    *,
    calls_per_second: float = 1000,
    max_concurrency: int | None = None,
) -> None:
    """A caller number whose rate never binds, unless the test sets one."""
    upsert_pacing(
        session,
        org_id=org.org_id,
        provider_id=caller_number_id,
        calls_per_second=calls_per_second,
        max_concurrency=max_concurrency,
    )


def end_call(session: Session, call_id: uuid.UUID, reason: str) -> Call:
    """The provider reports the call ended (as its webhook would)."""
    call = calls_repo.get_call_for_update(session, call_id=call_id)
    assert call is not None
    move_call(session, call, CallStatus.ENDED, ending=CallEnding(ended_reason=reason))
    return call


def campaign_of(session: Session, campaign_id: uuid.UUID) -> Campaign:
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    assert campaign is not None
    return campaign


def contacts_of(session: Session, campaign_id: uuid.UUID) -> list[Contact]:
    stmt = (
        select(Contact)
        .where(Contact.campaign_id == campaign_id)
        .order_by(Contact.position)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def calls_of_contact(session: Session, contact_id: uuid.UUID) -> list[Call]:
    stmt = (
        select(Call)
        .where(Call.contact_id == contact_id)
        .order_by(Call.attempt)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def dispatch_campaign(
    session: Session, *, campaign_id: uuid.UUID, now: datetime, batch_limit: int
) -> list[uuid.UUID]:
    """Dispatch the campaign's org with rates that never bind; the campaign's new calls."""
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    for caller_number_id in campaign.caller_number_ids_to_dial():
        upsert_pacing(
            session,
            org_id=campaign.org_id,
            provider_id=caller_number_id or "",
            calls_per_second=1000,
            max_concurrency=None,
        )
    result = dispatch_org(session, org_id=campaign.org_id, now=now, batch_limit=batch_limit)
    return result.calls_by_campaign.get(campaign_id, [])
