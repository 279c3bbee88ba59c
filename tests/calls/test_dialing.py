"""Building the provider request and the compare-and-set that makes a dial happen once."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from orchestrator.calls.dialing import begin_dial, deep_merge
from orchestrator.campaigns.counters import counter_drift
from orchestrator.campaigns.service import stop_campaign
from orchestrator.campaigns.states import CampaignEvent
from orchestrator.config import get_settings
from orchestrator.models import CallStatus, Campaign, Contact, ContactStatus
from tests.factories import claimed_call


def test_deep_merge_merges_nested_dicts_and_overrides_leaves() -> None:
    base = {"variableValues": {"a": 1, "b": 2}, "firstMessage": "hi"}
    override = {"variableValues": {"b": 3}, "firstMessage": "hello"}
    assert deep_merge(base, override) == {
        "variableValues": {"a": 1, "b": 3},
        "firstMessage": "hello",
    }
    assert base["variableValues"] == {"a": 1, "b": 2}, "inputs are not modified"


def test_request_carries_overrides_correlation_and_webhook(session: Session) -> None:
    call = claimed_call(
        session,
        customers=[
            {"number": "+14155550123", "assistantOverrides": {"variableValues": {"day": "Tue"}}}
        ],
        assistantOverrides={"variableValues": {"shop": "Acme", "day": "Mon"}},
        phone_number_id="caller-7",
    )
    settings = get_settings()
    request = begin_dial(session, call_id=call.id, settings=settings)
    assert request is not None
    body = request.model_dump(by_alias=True, exclude_none=True)
    assert body["assistantId"] == "assistant-1"
    assert body["phoneNumberId"] == "caller-7"
    assert body["customer"]["number"] == call.customer["number"]
    overrides = body["assistantOverrides"]
    assert overrides["variableValues"] == {"shop": "Acme", "day": "Tue"}
    assert overrides["metadata"]["orchestratorCallId"] == str(call.id)
    assert overrides["server"]["url"].endswith("/webhooks/vapi")
    assert overrides["server"]["headers"] == {
        settings.webhook_secret_header: settings.webhook_secret
    }
    assert "assistantOverrides" not in body["customer"]


def test_second_delivery_of_the_same_task_does_not_dial(session: Session) -> None:
    call = claimed_call(session)
    settings = get_settings()
    assert begin_dial(session, call_id=call.id, settings=settings) is not None
    assert begin_dial(session, call_id=call.id, settings=settings) is None
    session.refresh(call)
    assert call.status == CallStatus.DIALING


def test_campaign_stopped_before_dialing_releases_the_call(session: Session) -> None:
    call = claimed_call(session)
    assert call.campaign_id is not None
    campaign = session.get(Campaign, call.campaign_id)
    assert campaign is not None
    stop_campaign(session, campaign=campaign, event=CampaignEvent.CANCEL_BY_USER)
    assert begin_dial(session, call_id=call.id, settings=get_settings()) is None
    session.refresh(call)
    assert call.status == CallStatus.FAILED
    contact = session.get(Contact, call.contact_id)
    assert contact is not None and contact.status == ContactStatus.SKIPPED
    session.refresh(campaign)
    assert campaign.contacts_skipped == campaign.contacts_total
    assert counter_drift(session, campaign=campaign) == {}


def test_unknown_call_id_is_not_dialed(session: Session) -> None:
    assert begin_dial(session, call_id=uuid.uuid4(), settings=get_settings()) is None
