"""Stored messages applied in batches: many calls' messages folded into one transaction."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from orchestrator.models import CallStatus, Campaign, CampaignStatus, WebhookOutcome
from orchestrator.webhooks.applying import apply_pending_events
from orchestrator.webhooks.messages import new_event
from orchestrator.webhooks.storing import store_events
from tests.factories import (
    campaign_drift,
    placed_calls,
    report,
    status_update,
    webhook_outcomes,
    whole_call,
)

pytestmark = pytest.mark.usefixtures("no_other_webhook_events")


def test_one_batch_applies_every_message_of_many_calls_exactly(session: Session) -> None:
    campaign_id, calls = placed_calls(session, customers=3)
    reasons = ["customer-ended-call", "customer-did-not-answer", "voicemail"]
    messages = [
        m
        for call, reason in zip(calls, reasons, strict=True)
        for m in whole_call(call, ended_reason=reason)
    ]
    store_events(session, [new_event(m) for m in reversed(messages)])

    applied = apply_pending_events(session)

    assert applied.claimed == 12
    # Newest first: each call's report ends it; its earlier messages then change nothing.
    assert list(applied.outcomes.values()).count(WebhookOutcome.APPLIED) == 3
    assert set(applied.freed_org_ids) == {calls[0].org_id}
    for call, reason in zip(calls, reasons, strict=True):
        session.refresh(call)
        assert (call.status, call.ended_reason, call.cost) == (CallStatus.ENDED, reason, 0.12)
    assert None not in webhook_outcomes(session), "every event has its outcome"
    assert apply_pending_events(session).claimed == 0, "applied once"
    assert campaign_drift(session, campaign_id=campaign_id) == {}
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None and campaign.status == CampaignStatus.ENDED


def test_a_parked_message_is_applied_in_the_batch_of_its_calls_next_message(
    session: Session,
) -> None:
    campaign_id, (call,) = placed_calls(session)
    provider_id = call.provider_call_id
    assert provider_id is not None
    call.provider_call_id = None
    session.flush()
    store_events(session, [new_event(status_update(call, "ringing") | {})])  # no id at all
    early = status_update(call, "ended", endedReason="customer-busy")
    early["message"]["call"]["id"] = provider_id
    store_events(session, [new_event(early)])
    assert set(apply_pending_events(session).outcomes.values()) == {"parked", "unknown-call"}

    call.provider_call_id = provider_id
    session.flush()
    store_events(session, [new_event(report(call, "customer-busy"))])
    applied = apply_pending_events(session)

    # The parked ``ended`` ends the call first; the report then adds its details.
    assert list(applied.outcomes.values()) == ["applied", "applied"]
    assert webhook_outcomes(session) == {"applied": 2, "unknown-call": 1}
    session.refresh(call)
    assert (call.status, call.ended_reason) == (CallStatus.ENDED, "customer-busy")
    assert campaign_drift(session, campaign_id=campaign_id) == {}
