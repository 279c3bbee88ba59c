"""Calls: dispatched from a campaign, accepted by the provider, ended, or written directly as
``POST /call`` writes them; a contact's calls read back; when calls are looked up again."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.lookups import LookupPolicy
from orchestrator.calls.service import CallEnding, move_call, record_provider_call
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.models import Call, CallStatus, Campaign
from orchestrator.orgs.service import CreatedOrg
from orchestrator.phone_numbers.repository import upsert_pacing
from orchestrator.scheduling.service import dispatch_org
from tests.factories.campaigns import make_campaign
from tests.factories.orgs import make_org


def dispatch(session: Session, *, org: CreatedOrg, now: datetime) -> list[uuid.UUID]:
    """The org's calls claimed by one dispatch at ``now``."""
    return dispatch_org(session, org_id=org.org_id, now=now, batch_limit=500).call_ids


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


def claimed_call(session: Session, **campaign: Any) -> Call:
    """The first call claimed for a new campaign (of ``campaign``'s fields) of a new org."""
    org = make_org(session)
    campaign_id = make_campaign(session, org=org, **campaign)
    call_ids = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=1)
    call = session.get(Call, call_ids[0])
    assert call is not None
    return call


def dialing_calls(session: Session, *, count: int = 1, **campaign: Any) -> list[Call]:
    """The calls of a new campaign (of ``campaign``'s fields) of a new org, each ``dialing``:
    sent, as far as we know, with no answer yet."""
    org = make_org(session, name=f"dialing-{uuid.uuid4()}", concurrency_limit=max(count, 10))
    campaign_id = make_campaign(session, org=org, customers=count, **campaign)
    call_ids = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=count)
    calls = []
    for call_id in call_ids:
        assert begin_dial(session, call_id=call_id, settings=get_settings()) is not None
        call = session.get(Call, call_id, populate_existing=True)
        assert call is not None and call.dialed_at is not None
        calls.append(call)
    return calls


def placed_calls(session: Session, *, customers: int = 1) -> tuple[uuid.UUID, list[Call]]:
    """A new campaign of a new org, and its calls, each accepted by the provider."""
    org = make_org(session)
    campaign_id = make_campaign(session, org=org, customers=customers)
    call_ids = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=50)
    calls = []
    for call_id in call_ids:
        call = record_provider_call(
            session, call_id=call_id, provider_call={"id": str(uuid.uuid4())}
        )
        assert call is not None
        calls.append(call)
    return campaign_id, calls


def placed_call(session: Session) -> Call:
    """A call the provider has accepted, waiting for its webhooks."""
    _, (call,) = placed_calls(session)
    return call


def direct_call(
    session: Session,
    *,
    org: CreatedOrg,
    caller_number_id: str = "phone-1",
    status: CallStatus = CallStatus.SCHEDULED,
    customer: dict[str, Any] | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> uuid.UUID:
    """A direct call as ``POST /call`` writes it: scheduled, with the request to send."""
    call = Call(
        org_id=org.org_id,
        status=status,
        phone_number_id=caller_number_id,
        customer=customer or {"number": "+14155550100"},
        request={"assistantId": "assistant-direct", "assistantOverrides": {"metadata": {"k": 1}}},
        name="reminder",
        not_before=not_before,
        not_after=not_after,
    )
    session.add(call)
    session.flush()
    return call.id


def claimed_direct_call(
    session: Session, *, org: CreatedOrg, caller_number_id: str = "phone-1"
) -> uuid.UUID:
    """A direct call dispatch has claimed: it takes a rate slot next, then it is dialed."""
    return direct_call(
        session, org=org, caller_number_id=caller_number_id, status=CallStatus.CLAIMED
    )


def answer_call(session: Session, *, call_id: uuid.UUID) -> Call:
    """A worker dials the claimed call, the provider accepts it and the customer answers."""
    assert begin_dial(session, call_id=call_id, settings=get_settings()) is not None
    call = session.get(Call, call_id, populate_existing=True)
    assert call is not None
    call.provider_call_id = f"prov-{call_id}"
    move_call(session, call, CallStatus.IN_PROGRESS)
    return call


def end_call(session: Session, *, call_id: uuid.UUID, reason: str) -> Call:
    """The provider reports the call ended (as its webhook would)."""
    call = calls_repo.get_call_for_update(session, call_id=call_id)
    assert call is not None
    move_call(session, call, CallStatus.ENDED, ending=CallEnding(ended_reason=reason))
    return call


def calls_of_contact(session: Session, *, contact_id: uuid.UUID) -> list[Call]:
    """The contact's calls, first attempt first, as the database holds them now."""
    stmt = (
        select(Call)
        .where(Call.contact_id == contact_id)
        .order_by(Call.attempt)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def lookup_policy() -> LookupPolicy:
    """When calls are looked up at the provider, in round seconds a test can add up."""
    return LookupPolicy(
        silence_seconds=120,
        max_silence_seconds=900,
        retry_base_seconds=30,
        retry_max_seconds=900,
        confirm_seconds=60,
    )
