"""What a call's life records about its contact: ``dialed`` once, wherever the provider's id
is first learnt; a retry scheduled, in a webhook batch as alone; an attempt that never left
ending its contact."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.service import record_provider_call
from orchestrator.campaigns.service import stop_campaign
from orchestrator.campaigns.states import CampaignEvent
from orchestrator.clock import ManualClock
from orchestrator.config import get_settings
from orchestrator.flows.provider_view import settle_unknown_create
from orchestrator.models import Call
from orchestrator.orgs.service import CreatedOrg
from orchestrator.reasons import CAMPAIGN_STOPPED
from orchestrator.webhooks.applying import ingest_message
from tests.factories import (
    campaign_of,
    contacts_of,
    decisions_of,
    dispatch_campaign,
    kinds_of,
    make_campaign,
)


def _dialing(session: Session, org: CreatedOrg, clock: ManualClock, **body: Any) -> Call:
    campaign_id = make_campaign(session, org=org, customers=1, **body)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=clock.now, batch_limit=1)
    clock.advance(1)
    assert begin_dial(session, call_id=call_id, settings=get_settings()) is not None
    clock.advance(1)
    call = session.get(Call, call_id, populate_existing=True)
    assert call is not None and call.contact_id is not None
    return call


def _message(call: Call, provider_id: str, status: str, **extra: Any) -> dict[str, Any]:
    metadata = {"orchestratorCallId": str(call.id)}
    return {
        "message": {
            "type": "status-update",
            "status": status,
            "call": {"id": provider_id, "assistantOverrides": {"metadata": metadata}},
            **extra,
        }
    }


def test_dialed_is_recorded_at_the_dial_time_once_the_provider_answers(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    call = _dialing(session, org, clock)
    assert call.contact_id is not None
    record_provider_call(session, call_id=call.id, provider_call={"id": "p-1"})
    record_provider_call(session, call_id=call.id, provider_call={"id": "p-1"})

    claimed, dialed = decisions_of(session, contact_id=call.contact_id)
    assert (claimed.kind, dialed.kind, dialed.call_id, dialed.reason) == (
        "claimed",
        "dialed",
        call.id,
        None,
    )
    assert dialed.at == call.dialed_at != clock.now


def test_a_webhook_that_beats_the_answer_records_the_dial_and_the_answer_adds_nothing(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    call = _dialing(session, org, clock)
    assert call.contact_id is not None
    assert ingest_message(session, payload=_message(call, "p-early", "ringing")).outcome == (
        "applied"
    )
    record_provider_call(session, call_id=call.id, provider_call={"id": "p-early"})

    assert kinds_of(session, contact_id=call.contact_id) == [("claimed", None), ("dialed", None)]


def test_a_create_whose_answer_was_lost_is_dialed_when_the_lookup_finds_it(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    call = _dialing(session, org, clock)
    assert call.contact_id is not None and call.dialed_at is not None
    found = {"id": "p-found", "status": "queued"}
    settle_unknown_create(session, call_id=call.id, dialed_at=call.dialed_at, found=found)

    assert kinds_of(session, contact_id=call.contact_id) == [("claimed", None), ("dialed", None)]


def test_a_retry_scheduled_by_a_webhook_batch_is_deferred_until_its_time(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    plan = {"maxAttempts": 3, "retryOn": ["customer-busy"], "delaySeconds": 120}
    call = _dialing(session, org, clock, retryPlan=plan)
    assert call.contact_id is not None
    record_provider_call(session, call_id=call.id, provider_call={"id": "p-busy"})
    ended = _message(call, "p-busy", "ended", endedReason="customer-busy")
    ingest_message(session, payload=ended)

    *_, retry = decisions_of(session, contact_id=call.contact_id)
    assert (retry.kind, retry.reason, retry.call_id) == ("deferred", "retry", call.id)
    assert retry.detail == {"endedReason": "customer-busy"}
    (contact,) = contacts_of(session, campaign_id=uuid.UUID(str(call.campaign_id)))
    assert retry.retry_at == contact.not_before
    assert contact.deferral is None, "a retry is a wait for time, not a reason a due contact waits"


def test_an_attempt_stopped_before_it_left_skips_its_contact_naming_the_call(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=clock.now, batch_limit=1)
    campaign = campaign_of(session, campaign_id=campaign_id)
    stop_campaign(session, campaign=campaign, event=CampaignEvent.CANCEL_BY_USER)

    (contact,) = contacts_of(session, campaign_id=campaign_id)
    claimed, skipped = decisions_of(session, contact_id=contact.id)
    assert (claimed.kind, claimed.call_id) == ("claimed", call_id)
    assert (skipped.kind, skipped.reason, skipped.call_id) == (
        "skipped",
        CAMPAIGN_STOPPED,
        call_id,
    )
