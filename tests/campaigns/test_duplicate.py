"""``duplicateFromCampaignId`` on ``POST /campaign`` and ``POST /v2/campaign``: a new campaign
with another's settings and customers, under the fields the request gives."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from vapi import Vapi
from vapi.types import Campaign

from orchestrator.clock import utcnow
from orchestrator.models import Contact
from orchestrator.orgs.service import CreatedOrg
from tests.factories import (
    campaign_drift,
    contacts_of,
    customer_numbers,
    dispatch_campaign,
    force_campaign,
    make_campaign,
    make_org,
    post_campaign,
)
from tests.support.sdk import strictly
from tests.support.vapi_v2 import V2Campaigns

pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")

HOURS = {"windows": [{"days": ["mon"], "start": "09:00", "end": "17:00"}]}
RETRY = {"maxAttempts": 3, "retryOn": ["customer-busy"], "delaySeconds": 120}
NOT_FOUND = "duplicateFromCampaignId must be the id of a campaign of this org"
SCHEDULE = {"earliestAt": "2030-03-01T09:00:00.000Z", "latestAt": "2030-03-02T09:00:00.000Z"}


@pytest.fixture
def client(vapi: Vapi) -> V2Campaigns:
    return V2Campaigns(vapi)


@pytest.fixture
def source(api: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    """A v1 campaign with every setting given."""
    customers = [
        {"number": customer_numbers(1)[0], "name": "Ada", "timezone": "Europe/London"},
        {"number": customer_numbers(1, start=1)[0], "assistantOverrides": {"a": 1}},
        {"sipUri": "sip:desk@example.com"},
    ]
    return post_campaign(
        api,
        auth,
        customers=customers,
        name="Spring",
        schedulePlan=SCHEDULE,
        maxConcurrency=3,
        assistantOverrides={"variableValues": {"clinic": "North"}},
        server={"url": "https://example.com/hook"},
        serverMessages=["campaign.started"],
        callingHours=HOURS,
        retryPlan=RETRY,
    )


def duplicate(client: V2Campaigns, path: str, **body: Any) -> dict[str, Any]:
    response = client.send("POST", path, json={"name": "Copy", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    if "dialPlan" not in created:  # the SDK's Campaign wants a phoneNumberId and customers
        strictly(Campaign, created)
    return created


SETTINGS = (
    "assistantId",
    "phoneNumberId",
    "schedulePlan",
    "maxConcurrency",
    "assistantOverrides",
    "server",
    "serverMessages",
    "callingHours",
    "retryPlan",
    "customers",
)


@pytest.mark.parametrize("path", ["campaign", "v2/campaign"])
def test_a_copy_has_the_settings_and_customers_of_its_source(
    client: V2Campaigns, source: dict[str, Any], session: Session, path: str
) -> None:
    copy = duplicate(client, path, duplicateFromCampaignId=source["id"])
    assert copy["id"] != source["id"]
    assert copy["name"] == "Copy"
    assert copy["status"] == "scheduled"
    assert {key: copy.get(key) for key in SETTINGS} == {key: source.get(key) for key in SETTINGS}
    assert copy["contactCounters"]["pending"] == 3
    assert copy["contactCounters"]["total"] == 3
    copied = contacts_of(session, campaign_id=uuid.UUID(copy["id"]))
    originals = contacts_of(session, campaign_id=uuid.UUID(source["id"]))
    assert [c.customer for c in copied] == [c.customer for c in originals]
    assert [c.zone_key for c in copied] == [c.zone_key for c in originals]
    assert {c.id for c in copied}.isdisjoint({c.id for c in originals})
    assert campaign_drift(session, campaign_id=uuid.UUID(copy["id"])) == {}
    # The source is untouched, and both are listed.
    assert client.get(source["id"]).contact_counters is not None
    assert len(client.list().results) == 2


def test_the_copy_is_dialed_like_any_campaign(
    client: V2Campaigns, source: dict[str, Any], session: Session
) -> None:
    copy = duplicate(
        client,
        "v2/campaign",
        duplicateFromCampaignId=source["id"],
        schedulePlan=None,
        callingHours=None,
    )
    calls = dispatch_campaign(
        session, campaign_id=uuid.UUID(copy["id"]), now=utcnow(), batch_limit=3
    )
    assert len(calls) == 3
    dialed = client.contacts(copy["id"], status="contact.dispatched")
    assert [c.number for c in dialed.results] == [
        *customer_numbers(2),
        "sip:desk@example.com",
    ]


def test_the_requests_own_fields_come_first(client: V2Campaigns, source: dict[str, Any]) -> None:
    copy = duplicate(
        client,
        "v2/campaign",
        duplicateFromCampaignId=source["id"],
        squadId="squad-1",
        maxConcurrency=7,
        callingHours=None,
        schedulePlan=None,
        serverMessages=["campaign.ended"],
    )
    # A squad given replaces the source's assistant rather than joining it.
    assert copy["squadId"] == "squad-1"
    assert "assistantId" not in copy
    assert copy["maxConcurrency"] == 7
    assert copy["serverMessages"] == ["campaign.ended"]
    # null given clears what the source had; what is not given is still the source's.
    assert "callingHours" not in copy
    assert "schedulePlan" not in copy
    assert copy["retryPlan"] == source["retryPlan"]
    assert copy["server"] == source["server"]
    assert [c.get("name") for c in copy["customers"]] == ["Ada", None, None]


def test_customers_given_replace_the_sources(client: V2Campaigns, source: dict[str, Any]) -> None:
    customers = [{"number": n} for n in customer_numbers(2, start=50)]
    copy = duplicate(
        client, "v2/campaign", duplicateFromCampaignId=source["id"], customers=customers
    )
    assert copy["customers"] == customers
    assert copy["phoneNumberId"] == source["phoneNumberId"]
    assert copy["contactCounters"]["pending"] == 2


def test_a_phone_number_given_moves_the_copied_contacts_onto_it(
    client: V2Campaigns, session: Session, api: TestClient, auth: dict[str, str]
) -> None:
    plan = [
        {"phoneNumberId": "line-a", "customers": [{"number": customer_numbers(1)[0]}]},
        {"phoneNumberId": "line-b", "customers": [{"number": customer_numbers(1, start=1)[0]}]},
    ]
    planned = post_campaign(api, auth, customers=0, phoneNumberId=None, dialPlan=plan)
    as_planned = duplicate(client, "campaign", duplicateFromCampaignId=planned["id"])
    assert as_planned["dialPlan"] == plan
    moved = duplicate(
        client, "v2/campaign", duplicateFromCampaignId=planned["id"], phoneNumberId="line-c"
    )
    assert moved["phoneNumberId"] == "line-c"
    assert "dialPlan" not in moved
    assert moved["customers"] == [entry["customers"][0] for entry in plan]
    contacts = contacts_of(session, campaign_id=uuid.UUID(moved["id"]))
    assert {c.phone_number_id for c in contacts} == {"line-c"}


def test_v2_refuses_a_copy_of_what_only_v1_has(
    client: V2Campaigns, api: TestClient, auth: dict[str, str], session: Session
) -> None:
    plan = [{"phoneNumberId": "line-a", "customers": [{"number": customer_numbers(1)[0]}]}]
    flow = post_campaign(
        api,
        auth,
        customers=0,
        phoneNumberId=None,
        dialPlan=plan,
        assistantId=None,
        workflowId="workflow-1",
    )
    messages = client.refused(
        "POST", "v2/campaign", json={"name": "Copy", "duplicateFromCampaignId": flow["id"]}
    )
    assert messages == [
        "workflowId is only supported by v1 (POST /campaign): a v2 campaign runs an assistantId"
        " or a squadId",
        "dialPlan is only supported by v1 (POST /campaign): a v2 campaign calls its customers"
        " from one phoneNumberId",
        "exactly one of assistantId or squadId must be provided",
        f"fields not given are those of campaign {flow['id']} (duplicateFromCampaignId)",
    ]
    copy = duplicate(
        client,
        "v2/campaign",
        duplicateFromCampaignId=flow["id"],
        assistantId="assistant-2",
        phoneNumberId="line-z",
    )
    assert (copy["assistantId"], copy["phoneNumberId"]) == ("assistant-2", "line-z")
    assert "workflowId" not in copy


def test_customers_of_a_dial_plan_copy_need_a_number(
    client: V2Campaigns, api: TestClient, auth: dict[str, str]
) -> None:
    plan = [{"phoneNumberId": "line-a", "customers": [{"number": customer_numbers(1)[0]}]}]
    planned = post_campaign(api, auth, customers=0, phoneNumberId=None, dialPlan=plan)
    body = {
        "name": "Copy",
        "duplicateFromCampaignId": planned["id"],
        "customers": [{"number": customer_numbers(1, start=9)[0]}],
    }
    assert client.refused("POST", "campaign", json=body) == [
        "exactly one of phoneNumberId or dialPlan must be provided",
        f"fields not given are those of campaign {planned['id']} (duplicateFromCampaignId)",
    ]


def test_a_copied_window_that_has_closed_is_refused(
    client: V2Campaigns, source: dict[str, Any], session: Session
) -> None:
    past = utcnow() - timedelta(hours=1)
    force_campaign(
        session, campaign_id=source["id"], latest_at=past, earliest_at=past - timedelta(hours=1)
    )
    body = {"name": "Copy", "duplicateFromCampaignId": source["id"]}
    (message,) = client.refused("POST", "v2/campaign", json=body)
    assert message.startswith("schedulePlan.latestAt of the duplicated campaign (")
    assert message.endswith("has passed: give a schedulePlan (null for none)")
    later = {"earliestAt": "2031-01-01T09:00:00.000Z"}
    assert duplicate(client, "campaign", **body, schedulePlan=later)["schedulePlan"] == later


@pytest.mark.parametrize("path", ["campaign", "v2/campaign"])
def test_only_a_campaign_of_the_org_can_be_copied(
    client: V2Campaigns, session: Session, source: dict[str, Any], path: str
) -> None:
    other = make_campaign(session, org=make_org(session, name="other"), customers=2)
    client.delete(source["id"])
    for campaign_id in (str(other), source["id"], "not-a-uuid", str(uuid.uuid4())):
        body = {"name": "Copy", "duplicateFromCampaignId": campaign_id}
        assert client.refused("POST", path, json=body) == [NOT_FOUND]
    assert session.query(Contact).filter(Contact.campaign_id == other).count() == 2


def test_what_the_request_breaks_is_listed_with_the_missing_source(
    client: V2Campaigns, org: CreatedOrg
) -> None:
    body = {
        "name": "Copy",
        "duplicateFromCampaignId": str(uuid.uuid4()),
        "assistantId": "a",
        "squadId": "s",
        "customers": [{"number": "12"}],
    }
    assert sorted(client.refused("POST", "v2/campaign", json=body)) == sorted(
        [
            "only one of assistantId or squadId may be provided",
            "customers.0.number must be longer than or equal to 3 characters",
        ]
    )
    body["customers"] = []
    assert sorted(client.refused("POST", "v2/campaign", json=body)) == sorted(
        [
            NOT_FOUND,
            "only one of assistantId or squadId may be provided",
            "customers should not be empty",
        ]
    )
