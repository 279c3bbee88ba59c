"""A campaign's pre-dial plan as stored, and the question a check asks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from orchestrator.models import Campaign, Contact
from orchestrator.predial.message import predial_message
from orchestrator.predial.plan import MAX_TIMEOUT_SECONDS, OnError, predial_plan_of

URL = "https://crm.example.com/predial"


def campaign(predial_plan: dict[str, Any] | None, server: dict[str, Any] | None) -> Campaign:
    return Campaign(predial_plan=predial_plan, server=server)


@pytest.mark.parametrize("predial_plan", [None, {"enabled": False}, {"enabled": False, "x": 1}])
def test_no_checks_without_an_enabled_plan(predial_plan: dict[str, Any] | None) -> None:
    assert predial_plan_of(campaign(predial_plan, {"url": URL})) is None


def test_a_plan_defaults_as_vapi_does() -> None:
    plan = predial_plan_of(campaign({}, {"url": URL}))
    assert plan is not None
    assert (plan.url, plan.timeout_seconds, plan.on_error) == (URL, 20.0, OnError.FAIL)
    assert plan.max_error_retries == 3
    assert dict(plan.headers) == {}


def test_a_plan_takes_the_servers_headers_and_timeout_capped_at_30_seconds() -> None:
    server = {"url": URL, "headers": {"x-api-key": "k"}, "timeoutSeconds": 120}
    stored = {"enabled": True, "onError": "retry", "onErrorMaxRetries": 5}
    plan = predial_plan_of(campaign(stored, server))
    assert plan is not None
    assert plan.timeout_seconds == MAX_TIMEOUT_SECONDS
    assert (plan.on_error, plan.max_error_retries) == (OnError.RETRY, 5)
    assert dict(plan.headers) == {"x-api-key": "k"}
    short = predial_plan_of(campaign(stored, {"url": URL, "timeoutSeconds": 2}))
    assert short is not None and short.timeout_seconds == 2


def test_the_message_is_vapis_campaign_predial() -> None:
    customer = {
        "number": "+14155550100",
        "name": "Ada",
        "assistantOverrides": {"variableValues": {"plan": "gold"}},
        "externalId": "crm-7",
    }
    contact = Contact(
        id=uuid.uuid4(),
        campaign_id=uuid.uuid4(),
        org_id=uuid.uuid4(),
        number="+14155550100",
        customer=customer,
        created_at=datetime(2026, 3, 2, 15, 0, tzinfo=UTC),
    )
    now = datetime(2026, 3, 2, 15, 0, 1, 250000, tzinfo=UTC)
    message = predial_message(contact, now=now)["message"]
    assert message == {
        "type": "campaign.predial",
        "campaignId": str(contact.campaign_id),
        "contact": {
            "id": str(contact.id),
            "campaignId": str(contact.campaign_id),
            "orgId": str(contact.org_id),
            "number": "+14155550100",
            "name": "Ada",
            "assistantOverrides": {"variableValues": {"plan": "gold"}},
            "createdAt": "2026-03-02T15:00:00.000Z",
        },
        "customer": customer,
        "timestamp": 1772463601250,
    }
