"""A campaign created paused (``"status": "paused"``, extension): it may have no customers
yet, is not ended for having none, takes customers appended, and ends once resumed if it
truly has none."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.campaigns.repository import finish_done_campaigns
from orchestrator.clock import utcnow
from orchestrator.models import Campaign, CampaignStatus
from tests.factories import campaign_body, customer_numbers, dispatch_campaign
from tests.support.errors import error_messages


def _create_paused(api: TestClient, auth: dict[str, str]) -> dict[str, object]:
    body = campaign_body(customers=[], status="paused")
    body.pop("customers")
    response = api.post("/campaign", json=body, headers=auth)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def _status(session: Session, campaign_id: object) -> CampaignStatus:
    campaign = session.get(Campaign, uuid.UUID(str(campaign_id)), populate_existing=True)
    assert campaign is not None
    return CampaignStatus(campaign.status)


def test_a_paused_campaign_waits_for_its_customers_then_runs_them(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = _create_paused(api, auth)
    assert created["status"] == "paused"
    assert created["customers"] == []
    assert created["id"] not in [str(i) for i in finish_done_campaigns(session)]
    assert _status(session, created["id"]) == CampaignStatus.PAUSED
    body = "number\n" + "".join(f"{n}\n" for n in customer_numbers(2, start=900))
    appended = api.post(
        f"/campaign/{created['id']}/customers",
        content=body,
        headers={**auth, "Content-Type": "text/csv"},
    )
    assert appended.json()["added"] == 2
    resumed = api.patch(f"/campaign/{created['id']}", json={"status": "scheduled"}, headers=auth)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "scheduled"
    assert resumed.json()["callsCounterScheduled"] == 2
    finish_done_campaigns(session)
    assert _status(session, created["id"]) == CampaignStatus.SCHEDULED


def test_a_paused_campaign_resumed_without_customers_ends_as_done(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = _create_paused(api, auth)
    api.patch(f"/campaign/{created['id']}", json={"status": "scheduled"}, headers=auth)
    # The scheduler finds nothing to dial, and does not trip over an empty audience.
    campaign_id = uuid.UUID(str(created["id"]))
    assert dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=10) == []
    assert created["id"] in [str(i) for i in finish_done_campaigns(session)]
    read = api.get(f"/campaign/{created['id']}", headers=auth).json()
    assert (read["status"], read["endedReason"]) == ("ended", "campaign.ended.success")


def test_only_a_paused_campaign_may_be_created_without_customers(
    api: TestClient, auth: dict[str, str]
) -> None:
    body = campaign_body(customers=[])
    assert error_messages(api.post("/campaign", json=body, headers=auth), 400) == [
        "customers should not be empty"
    ]
    body["status"] = "scheduled"
    messages = error_messages(api.post("/campaign", json=body, headers=auth), 400)
    assert "status must be one of the following values: paused" in messages
    v2 = campaign_body(customers=1, status="paused")
    assert error_messages(api.post("/v2/campaign", json=v2, headers=auth), 400) == [
        "status is only supported by v1 (POST /campaign): a v2 campaign is created scheduled"
    ]
