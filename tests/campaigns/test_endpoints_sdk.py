"""Vapi's official Python SDK, used as a customer would, against our API.

The SDK builds its models without checking them, so every raw answer is also validated
strictly against the same models (after the SDK's own camelCase-to-field mapping), with nothing
outside the fields they declare but our extensions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from vapi import AssistantOverrides, CreateCustomerDto, DialPlanEntry, SchedulePlan, Vapi
from vapi.core.api_error import ApiError
from vapi.types import Campaign, CampaignPaginatedResponse

from orchestrator.orgs.service import CreatedOrg
from tests.factories import contact_statuses, customer_numbers, force_campaign
from tests.support.sdk import checked, strictly

# The SDK passes its own timeout on every request, which Starlette's TestClient only warns about.
pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")


OVERRIDES = {"firstMessage": "Hi {{name}}, a reminder from the clinic."}
EARLIEST = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
LATEST = datetime(2030, 3, 1, 17, 30, tzinfo=UTC)


def create(vapi: Vapi, name: str = "Renewals", count: int = 3) -> Campaign:
    customers = [
        CreateCustomerDto(number=n, name=f"Customer {i}")
        for i, n in enumerate(customer_numbers(count))
    ]
    campaign: Campaign = vapi.campaigns.campaign_controller_create(
        name=name,
        assistant_id="assistant-1",
        phone_number_id="phone-1",
        customers=customers,
        schedule_plan=SchedulePlan(earliest_at=EARLIEST, latest_at=LATEST),
        assistant_overrides=AssistantOverrides(first_message=OVERRIDES["firstMessage"]),
    )
    return campaign


def test_create(vapi: Vapi, answers: list[httpx.Response], org: CreatedOrg) -> None:
    campaign = create(vapi)
    assert answers[-1].status_code == 201
    assert answers[-1].json()["assistantOverrides"] == OVERRIDES
    for parsed in (checked(campaign, answers[-1].json()), strictly(Campaign, answers[-1].json())):
        assert parsed.name == "Renewals"
        assert parsed.org_id == str(org.org_id)
        assert parsed.status == "scheduled"
        assert parsed.ended_reason is None
        assert parsed.assistant_id == "assistant-1"
        assert parsed.phone_number_id == "phone-1"
        assert parsed.schedule_plan is not None
        assert parsed.schedule_plan.earliest_at == EARLIEST
        assert parsed.schedule_plan.latest_at == LATEST
        assert parsed.customers is not None
        assert [c.number for c in parsed.customers] == customer_numbers(3)
        assert parsed.customers[2].name == "Customer 2"
        assert parsed.calls == {}
        assert parsed.calls_counter_scheduled == 3
        assert parsed.calls_counter_queued == 0
        assert parsed.calls_counter_in_progress == 0
        assert parsed.calls_counter_ended == 0
        assert parsed.calls_counter_ended_voicemail == 0
        assert isinstance(parsed.created_at, datetime)
        assert parsed.assistant_overrides is not None
        assert parsed.assistant_overrides.first_message == OVERRIDES["firstMessage"]
        assert parsed.model_extra is not None
        assert set(parsed.model_extra) == {"contactCounters"}
        assert parsed.model_extra["contactCounters"]["pending"] == 3


def test_create_with_e164_check_disabled(vapi: Vapi, answers: list[httpx.Response]) -> None:
    campaign = vapi.campaigns.campaign_controller_create(
        name="Internal line",
        assistant_id="assistant-1",
        phone_number_id="phone-1",
        customers=[CreateCustomerDto(number="5550100", number_e_164_check_enabled=False)],
    )
    assert campaign.customers[0].number == "5550100"
    parsed = checked(campaign, answers[-1].json())
    assert parsed.customers[0].number_e_164_check_enabled is False


def test_create_error_reaches_the_sdk(vapi: Vapi, session: Session) -> None:
    with pytest.raises(ApiError) as raised:
        vapi.campaigns.campaign_controller_create(
            name="Bad numbers",
            assistant_id="assistant-1",
            phone_number_id="phone-1",
            customers=[CreateCustomerDto(number="+14155550100"), CreateCustomerDto(number="12")],
        )
    assert raised.value.status_code == 400
    assert raised.value.body == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": ["customers.1.number must be longer than or equal to 3 characters"],
    }


def test_get(vapi: Vapi, answers: list[httpx.Response]) -> None:
    created = create(vapi, count=2)
    fetched = vapi.campaigns.campaign_controller_find_one(created.id)
    for parsed in (checked(fetched, answers[-1].json()), strictly(Campaign, answers[-1].json())):
        assert parsed.id == created.id
        assert parsed.name == created.name
        assert parsed.calls_counter_scheduled == 2
        assert [c.number for c in parsed.customers or []] == customer_numbers(2)


def test_get_a_dial_plan_campaign(vapi: Vapi, answers: list[httpx.Response]) -> None:
    plan: list[dict[str, Any]] = [
        {"phoneNumberId": "phone-a", "customers": [{"number": customer_numbers(1)[0]}]},
        {"phoneNumberId": "phone-b", "customers": [{"number": customer_numbers(1, start=1)[0]}]},
    ]
    posted = vapi.campaigns.campaign_controller_create(
        name="Two lines",
        assistant_id="assistant-1",
        dial_plan=[strictly(DialPlanEntry, entry) for entry in plan],
    )
    assert checked(posted, answers[-1].json()).phone_number_id is None
    fetched = checked(vapi.campaigns.campaign_controller_find_one(posted.id), answers[-1].json())
    assert fetched.name == "Two lines"
    assert fetched.calls_counter_scheduled == 2
    assert answers[-1].json()["dialPlan"] == plan
    assert fetched.dial_plan is not None
    assert [(e.phone_number_id, [c.number for c in e.customers]) for e in fetched.dial_plan] == [
        (entry["phoneNumberId"], [c["number"] for c in entry["customers"]]) for entry in plan
    ]


def test_list_with_filters(vapi: Vapi, answers: list[httpx.Response], session: Session) -> None:
    ids = []
    for day in (1, 2, 3, 4):
        campaign = create(vapi, name=f"day-{day}", count=1)
        created_at = datetime(2030, 1, day, 12, tzinfo=UTC)
        force_campaign(session, campaign_id=campaign.id, created_at=created_at)
        ids.append(campaign.id)
    vapi.campaigns.campaign_controller_update(ids[0], status="ended")
    page = vapi.campaigns.campaign_controller_find_all(
        status="scheduled",
        created_at_gt=datetime(2030, 1, 1, 12, tzinfo=UTC),
        limit=2,
        page=1,
        sort_order="ASC",
    )
    strict = strictly(CampaignPaginatedResponse, answers[-1].json())
    for parsed in (checked(page, answers[-1].json()), strict):
        assert [c.name for c in parsed.results] == ["day-2", "day-3"]
        assert parsed.metadata.items_per_page == 2
        assert parsed.metadata.total_items == 3
        assert parsed.metadata.current_page == 1
        assert parsed.metadata.has_next_page is True
        assert parsed.metadata.total_pages == 2
        assert parsed.metadata.sort_order == "ASC"
        assert parsed.metadata.model_extra == {}
    second = vapi.campaigns.campaign_controller_find_all(
        status="scheduled", created_at_gt=datetime(2030, 1, 1, 12, tzinfo=UTC), limit=2, page=2
    )
    assert [c.name for c in second.results] == ["day-2"]
    ended = vapi.campaigns.campaign_controller_find_all(status="ended")
    assert [c.id for c in ended.results] == [ids[0]]
    window = vapi.campaigns.campaign_controller_find_all(
        created_at_ge=datetime(2030, 1, 2, 12, tzinfo=UTC),
        created_at_lt=datetime(2030, 1, 4, 12, tzinfo=UTC) - timedelta(microseconds=1),
    )
    assert [c.name for c in window.results] == ["day-3", "day-2"]


def test_update_name_then_cancel(
    vapi: Vapi, answers: list[httpx.Response], session: Session
) -> None:
    created = create(vapi, count=3)
    renamed = vapi.campaigns.campaign_controller_update(created.id, name="Renewals (March)")
    assert checked(renamed, answers[-1].json()).name == "Renewals (March)"
    assert renamed.name == "Renewals (March)"
    assert renamed.status == "scheduled"
    cancelled = vapi.campaigns.campaign_controller_update(created.id, status="cancelled")
    strict = strictly(Campaign, answers[-1].json())
    for parsed in (checked(cancelled, answers[-1].json()), strict):
        assert parsed.status == "cancelled"
        assert parsed.ended_reason == "campaign.scheduled.ended-by-user"
        assert parsed.calls_counter_scheduled == 0
        assert parsed.name == "Renewals (March)"
    assert contact_statuses(session, campaign_id=created.id) == ["skipped"] * 3
    with pytest.raises(ApiError) as raised:
        vapi.campaigns.campaign_controller_update(created.id, status="ended")
    assert raised.value.status_code == 400


def test_update_phone_number(vapi: Vapi, answers: list[httpx.Response]) -> None:
    created = create(vapi, count=1)
    moved = vapi.campaigns.campaign_controller_update(created.id, phone_number_id="phone-2")
    assert moved.phone_number_id == "phone-2"
    assert checked(moved, answers[-1].json()).phone_number_id == "phone-2"


def test_end_a_running_campaign(vapi: Vapi, session: Session) -> None:
    created = create(vapi, count=2)
    force_campaign(session, campaign_id=created.id, status="in-progress")
    ended = vapi.campaigns.campaign_controller_update(created.id, status="ended")
    assert ended.status == "ended"
    assert ended.ended_reason == "campaign.in-progress.ended-by-user"


def test_delete(vapi: Vapi, answers: list[httpx.Response]) -> None:
    kept = create(vapi, name="kept", count=1)
    created = create(vapi, name="gone", count=2)
    deleted = vapi.campaigns.campaign_controller_remove(created.id)
    strict = strictly(Campaign, answers[-1].json())
    for parsed in (checked(deleted, answers[-1].json()), strict):
        assert parsed.id == created.id
        assert parsed.status == "archived"
        assert parsed.ended_reason == "campaign.scheduled.ended-by-user"
    with pytest.raises(ApiError) as raised:
        vapi.campaigns.campaign_controller_find_one(created.id)
    assert raised.value.status_code == 404
    remaining = vapi.campaigns.campaign_controller_find_all()
    assert [c.id for c in remaining.results] == [kept.id]


def test_wrong_key(api: TestClient) -> None:
    stranger = Vapi(token="orch_wrong", base_url="http://testserver", httpx_client=api)
    with pytest.raises(ApiError) as raised:
        stranger.campaigns.campaign_controller_find_all()
    assert raised.value.status_code == 401
    assert raised.value.body == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "Invalid API key",
    }
