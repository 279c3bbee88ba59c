"""``duplicateFromCampaignId`` on ``POST /campaign`` and ``POST /v2/campaign``, through Vapi's
Python SDK: a new campaign with another's settings and customers, under the fields the request
gives."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from vapi import CreateCustomerDto, SchedulePlan, Vapi
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
from tests.support.vapi_v2 import V2Campaigns, ours, refusal

pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")

HOURS = {"windows": [{"days": ["mon"], "start": "09:00", "end": "17:00"}]}
RETRY = {"maxAttempts": 3, "retryOn": ["customer-busy"], "delaySeconds": 120}
NOT_FOUND = "duplicateFromCampaignId must be the id of a campaign of this org"
OVERRIDES = {"variableValues": {"plan": "gold"}}
SCHEDULE = {"earliestAt": "2030-03-01T09:00:00.000Z", "latestAt": "2030-03-02T09:00:00.000Z"}


Copy = Callable[..., dict[str, Any]]


@pytest.fixture
def duplicate(v2: V2Campaigns, vapi: Vapi) -> Copy:
    """``POST {path}`` of a campaign named "Copy" through the SDK; its raw answer, once the SDK's
    model of it is checked."""
    creates: dict[str, Callable[..., Campaign]] = {
        "campaign": v2.checking(vapi.campaigns.campaign_controller_create),
        "v2/campaign": v2.create,
    }

    def post(path: str, **fields: Any) -> dict[str, Any]:
        creates[path](**{"name": "Copy", **fields})
        created: dict[str, Any] = v2.raw
        return created

    return post


@pytest.fixture
def source(api: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    """A v1 campaign with every setting given."""
    customers = [
        {"number": customer_numbers(1)[0], "name": "Ada", "timezone": "Europe/London"},
        {"number": customer_numbers(1, start=1)[0], "assistantOverrides": OVERRIDES},
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
    duplicate: Copy, v2: V2Campaigns, source: dict[str, Any], session: Session, path: str
) -> None:
    copy = duplicate(path, duplicate_from_campaign_id=source["id"])
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
    assert v2.get(source["id"]).contact_counters is not None
    assert len(v2.list().results) == 2


def test_the_copy_is_dialed_like_any_campaign(
    duplicate: Copy, v2: V2Campaigns, source: dict[str, Any], session: Session
) -> None:
    copy = duplicate(
        "v2/campaign",
        duplicate_from_campaign_id=source["id"],
        schedule_plan=None,
        request_options=ours(callingHours=None),
    )
    calls = dispatch_campaign(
        session, campaign_id=uuid.UUID(copy["id"]), now=utcnow(), batch_limit=3
    )
    assert len(calls) == 3
    dialed = v2.contacts(copy["id"], status="contact.dispatched")
    assert [c.number for c in dialed.results] == [
        *customer_numbers(2),
        "sip:desk@example.com",
    ]


def test_the_requests_own_fields_come_first(duplicate: Copy, source: dict[str, Any]) -> None:
    copy = duplicate(
        "v2/campaign",
        duplicate_from_campaign_id=source["id"],
        squad_id="squad-1",
        max_concurrency=7,
        schedule_plan=None,
        server_messages=["campaign.ended"],
        request_options=ours(callingHours=None),
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


def test_customers_given_replace_the_sources(duplicate: Copy, source: dict[str, Any]) -> None:
    numbers = customer_numbers(2, start=50)
    copy = duplicate(
        "v2/campaign",
        duplicate_from_campaign_id=source["id"],
        customers=[CreateCustomerDto(number=n) for n in numbers],
    )
    assert copy["customers"] == [{"number": n} for n in numbers]
    assert copy["phoneNumberId"] == source["phoneNumberId"]
    assert copy["contactCounters"]["pending"] == 2


def test_a_phone_number_given_moves_the_copied_contacts_onto_it(
    duplicate: Copy, session: Session, api: TestClient, auth: dict[str, str]
) -> None:
    plan = [
        {"phoneNumberId": "line-a", "customers": [{"number": customer_numbers(1)[0]}]},
        {"phoneNumberId": "line-b", "customers": [{"number": customer_numbers(1, start=1)[0]}]},
    ]
    planned = post_campaign(api, auth, customers=0, phoneNumberId=None, dialPlan=plan)
    as_planned = duplicate("campaign", duplicate_from_campaign_id=planned["id"])
    assert as_planned["dialPlan"] == plan
    moved = duplicate(
        "v2/campaign", duplicate_from_campaign_id=planned["id"], phone_number_id="line-c"
    )
    assert moved["phoneNumberId"] == "line-c"
    assert "dialPlan" not in moved
    assert moved["customers"] == [entry["customers"][0] for entry in plan]
    contacts = contacts_of(session, campaign_id=uuid.UUID(moved["id"]))
    assert {c.phone_number_id for c in contacts} == {"line-c"}


def test_v2_refuses_a_copy_of_what_only_v1_has(
    duplicate: Copy, api: TestClient, auth: dict[str, str], session: Session
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
    messages = refusal(lambda: duplicate("v2/campaign", duplicate_from_campaign_id=flow["id"]))
    assert messages == [
        "workflowId is only supported by v1 (POST /campaign): a v2 campaign runs an assistantId"
        " or a squadId",
        "dialPlan is only supported by v1 (POST /campaign): a v2 campaign calls its customers"
        " from one phoneNumberId",
        "exactly one of assistantId or squadId must be provided",
        f"fields not given are those of campaign {flow['id']} (duplicateFromCampaignId)",
    ]
    copy = duplicate(
        "v2/campaign",
        duplicate_from_campaign_id=flow["id"],
        assistant_id="assistant-2",
        phone_number_id="line-z",
    )
    assert (copy["assistantId"], copy["phoneNumberId"]) == ("assistant-2", "line-z")
    assert "workflowId" not in copy


def test_customers_of_a_dial_plan_copy_need_a_number(
    duplicate: Copy, api: TestClient, auth: dict[str, str]
) -> None:
    plan = [{"phoneNumberId": "line-a", "customers": [{"number": customer_numbers(1)[0]}]}]
    planned = post_campaign(api, auth, customers=0, phoneNumberId=None, dialPlan=plan)
    customers = [CreateCustomerDto(number=customer_numbers(1, start=9)[0])]
    messages = refusal(
        lambda: duplicate("campaign", duplicate_from_campaign_id=planned["id"], customers=customers)
    )
    assert messages == [
        "exactly one of phoneNumberId or dialPlan must be provided",
        f"fields not given are those of campaign {planned['id']} (duplicateFromCampaignId)",
    ]


def test_a_copied_window_that_has_closed_is_refused(
    duplicate: Copy, source: dict[str, Any], session: Session
) -> None:
    past = utcnow() - timedelta(hours=1)
    force_campaign(
        session, campaign_id=source["id"], latest_at=past, earliest_at=past - timedelta(hours=1)
    )
    (message,) = refusal(lambda: duplicate("v2/campaign", duplicate_from_campaign_id=source["id"]))
    assert message.startswith("schedulePlan.latestAt of the duplicated campaign (")
    assert message.endswith("has passed: give a schedulePlan (null for none)")
    later = SchedulePlan(earliest_at=datetime(2031, 1, 1, 9, tzinfo=UTC))
    copy = duplicate("campaign", duplicate_from_campaign_id=source["id"], schedule_plan=later)
    assert copy["schedulePlan"] == {"earliestAt": "2031-01-01T09:00:00.000Z"}


@pytest.mark.parametrize("path", ["campaign", "v2/campaign"])
def test_only_a_campaign_of_the_org_can_be_copied(
    duplicate: Copy, v2: V2Campaigns, session: Session, source: dict[str, Any], path: str
) -> None:
    other = make_campaign(session, org=make_org(session, name="other"), customers=2)
    v2.delete(source["id"])
    for campaign_id in (str(other), source["id"], "not-a-uuid", str(uuid.uuid4())):
        copying = partial(duplicate, path, duplicate_from_campaign_id=campaign_id)
        assert refusal(copying) == [NOT_FOUND]
    assert session.query(Contact).filter(Contact.campaign_id == other).count() == 2


def test_what_the_request_breaks_is_listed_with_the_missing_source(
    duplicate: Copy, org: CreatedOrg
) -> None:
    fields: dict[str, Any] = {
        "duplicate_from_campaign_id": str(uuid.uuid4()),
        "assistant_id": "a",
        "squad_id": "s",
        "customers": [CreateCustomerDto(number="12")],
    }
    assert sorted(refusal(lambda: duplicate("v2/campaign", **fields))) == sorted(
        [
            "only one of assistantId or squadId may be provided",
            "customers.0.number must be longer than or equal to 3 characters",
        ]
    )
    fields["customers"] = []
    assert sorted(refusal(lambda: duplicate("v2/campaign", **fields))) == sorted(
        [
            NOT_FOUND,
            "only one of assistantId or squadId may be provided",
            "customers should not be empty",
        ]
    )
