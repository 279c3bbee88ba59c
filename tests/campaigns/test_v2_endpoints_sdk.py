"""``/v2/campaign`` through Vapi's Python SDK, as a customer would use it; one campaign table
serves both versions. Every answer is checked against the SDK's models (``V2Campaigns``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from vapi import (
    AssistantOverrides,
    CampaignPredialPlan,
    CreateCustomerDto,
    DialPlanEntry,
    SchedulePlan,
    Server,
    Vapi,
)
from vapi.core.api_error import ApiError
from vapi.types import (
    Campaign,
    CampaignCallMetrics,
    CampaignContactCounters,
    CampaignSummary,
    CampaignSummaryPaginatedResponse,
)

from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.service import fail_call, record_provider_call
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.models import Call
from orchestrator.orgs.service import CreatedOrg
from tests.factories import (
    contact_statuses,
    customer_numbers,
    dispatch_campaign,
    end_call,
    force_campaign,
    make_campaign,
    make_org,
)
from tests.support.sdk import extensions
from tests.support.vapi_v2 import V2Campaigns, ours, refusal

pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")

HOURS = {"windows": [{"days": ["mon", "tue"], "start": "09:00", "end": "17:00"}]}
RETRY = {"maxAttempts": 2, "retryOn": ["customer-busy"], "delaySeconds": 60}
EARLIEST = datetime(2030, 3, 1, 9, tzinfo=UTC)
LATEST = datetime(2030, 3, 1, 17, 30, tzinfo=UTC)
SCHEDULE = {"earliestAt": "2030-03-01T09:00:00.000Z", "latestAt": "2030-03-01T17:30:00.000Z"}


def customers(count: int) -> list[CreateCustomerDto]:
    return [
        CreateCustomerDto(number=n, name=f"Customer {i}")
        for i, n in enumerate(customer_numbers(count))
    ]


def create(v2: V2Campaigns, count: int = 3, *, name: str = "Renewals", **fields: Any) -> Campaign:
    """A v2 campaign of ``count`` customers running assistant-1 from phone-1."""
    created: Campaign = v2.create(
        name=name,
        assistant_id="assistant-1",
        phone_number_id="phone-1",
        customers=customers(count),
        **fields,
    )
    return created


def test_create(v2: V2Campaigns, org: CreatedOrg) -> None:
    created = create(
        v2,
        schedule_plan=SchedulePlan(earliest_at=EARLIEST, latest_at=LATEST),
        assistant_overrides=AssistantOverrides(variable_values={"clinic": "North"}),
        max_concurrency=4,
        request_options=ours(callingHours=HOURS, retryPlan=RETRY),
    )
    assert isinstance(created, Campaign)
    assert created.org_id == str(org.org_id)
    assert created.status == "scheduled"
    assert created.ended_reason is None
    assert created.assistant_id == "assistant-1"
    assert created.squad_id is None
    assert created.phone_number_id == "phone-1"
    assert created.schedule_plan is not None
    assert (created.schedule_plan.earliest_at, created.schedule_plan.latest_at) == (
        EARLIEST,
        LATEST,
    )
    assert created.max_concurrency == 4
    assert created.assistant_overrides is not None
    assert created.assistant_overrides.variable_values == {"clinic": "North"}
    assert [c.number for c in created.customers or []] == customer_numbers(3)
    assert created.calls == {}
    assert created.calls_counter_scheduled == 3
    assert isinstance(created.created_at, datetime)
    assert extensions(created) == {"callingHours", "retryPlan", "contactCounters"}
    raw = v2.raw
    assert raw["schedulePlan"] == SCHEDULE
    assert raw["callingHours"]["windows"] == HOURS["windows"]
    assert raw["retryPlan"]["maxAttempts"] == 2
    assert raw["contactCounters"]["pending"] == 3


def test_create_with_a_squad(v2: V2Campaigns) -> None:
    created = v2.create(
        name="Renewals", squad_id="squad-1", phone_number_id="phone-1", customers=customers(1)
    )
    assert created.squad_id == "squad-1"
    assert created.assistant_id is None
    assert "squadId" not in extensions(created)
    summary = v2.get(created.id)
    assert (summary.squad_id, summary.assistant_id) == ("squad-1", None)


def test_a_server_and_a_predial_plan_are_vapis(v2: V2Campaigns) -> None:
    hook = "https://example.com/hook"
    created = create(
        v2,
        1,
        server=Server(url=hook, headers={"x-team": "renewals"}, timeout_seconds=5),
        server_messages=["campaign.ended", "contact.completed"],
        # Our extension rides on Vapi's model, as a customer would send it with the SDK.
        predial_plan=CampaignPredialPlan.model_validate({"enabled": True, "onError": "retry"}),
    )
    for parsed in (created, v2.get(created.id)):
        assert isinstance(parsed.server, Server)
        assert (parsed.server.url, parsed.server.timeout_seconds) == (hook, 5)
        assert parsed.server.headers == {"x-team": "renewals"}
        assert parsed.server_messages == ["campaign.ended", "contact.completed"]
        assert isinstance(parsed.predial_plan, CampaignPredialPlan)
        assert parsed.predial_plan.enabled is True
        assert parsed.predial_plan.model_extra == {"onError": "retry"}


def test_get_gives_counters_and_call_metrics_unless_asked_not_to(v2: V2Campaigns) -> None:
    created = create(
        v2,
        2,
        schedule_plan=SchedulePlan(earliest_at=EARLIEST, latest_at=LATEST),
        request_options=ours(callingHours=HOURS),
    )
    summary = v2.get(created.id)
    assert isinstance(summary, CampaignSummary)
    assert summary.id == created.id
    assert summary.org_id == created.org_id
    assert summary.name == "Renewals"
    assert summary.status == "scheduled"
    assert summary.assistant_id == "assistant-1"
    assert summary.phone_number_id == "phone-1"
    assert summary.schedule_plan == created.schedule_plan
    assert summary.max_concurrency == 10
    assert (summary.created_at, summary.updated_at) == (created.created_at, created.updated_at)
    assert isinstance(summary.contact_counters, CampaignContactCounters)
    assert summary.contact_counters.pending == 2
    assert summary.contact_counters.completed == summary.contact_counters.predial_failed == 0
    assert isinstance(summary.call_metrics, CampaignCallMetrics)
    assert (summary.call_metrics.dialed, summary.call_metrics.connected) == (0, 0)
    assert extensions(summary) == {"callingHours", "pacing"}
    raw = v2.raw
    # A summary, not the v1 Campaign: no customers, calls map or v1 counters.
    assert not {"customers", "calls", "callsCounterScheduled", "dialPlan"} & set(raw)
    assert raw["schedulePlan"] == SCHEDULE
    assert raw["callingHours"]["windows"] == HOURS["windows"]

    lean = v2.get(created.id, include_counters=False)
    assert lean.contact_counters is None
    assert lean.call_metrics is None
    assert extensions(lean) == {"callingHours"}
    assert lean.name == summary.name


def _dial(session: Session, campaign_id: str, count: int) -> list[uuid.UUID]:
    calls = dispatch_campaign(
        session, campaign_id=uuid.UUID(campaign_id), now=utcnow(), batch_limit=count
    )
    assert len(calls) == count
    return calls


def test_call_metrics_count_calls_the_provider_took_and_those_a_person_answered(
    v2: V2Campaigns, session: Session
) -> None:
    created = create(v2, 6)
    calls = _dial(session, created.id, 6)
    answered, voicemail, unanswered, ringing, refused, _unsent = calls
    for call_id in (answered, voicemail, unanswered, ringing, refused):
        begin_dial(session, call_id=call_id, settings=get_settings())
    for call_id in (answered, voicemail, unanswered, ringing):
        record_provider_call(session, call_id=call_id, provider_call={"id": f"p-{call_id}"})
    end_call(session, call_id=answered, reason="customer-ended-call")
    end_call(session, call_id=voicemail, reason="voicemail")
    end_call(session, call_id=unanswered, reason="customer-did-not-answer")
    fail_call(
        session, session.get_one(Call, refused), reason="provider-rejected", message="bad number"
    )
    session.flush()

    summary = v2.get(created.id)
    assert summary.call_metrics is not None
    assert (summary.call_metrics.dialed, summary.call_metrics.connected) == (4, 1)
    page = v2.list(include_counters=True)
    assert page.results[0].call_metrics == summary.call_metrics
    assert page.results[0].contact_counters == summary.contact_counters


def test_list_with_filters_paging_and_counters(v2: V2Campaigns, session: Session) -> None:
    ids = []
    for day in (1, 2, 3, 4):
        created = create(v2, day, name=f"day-{day}")
        force_campaign(
            session, campaign_id=created.id, created_at=datetime(2030, 1, day, 12, tzinfo=UTC)
        )
        ids.append(created.id)
    v2.update(ids[0], status="cancelled")

    since = datetime(2030, 1, 1, 12, tzinfo=UTC)
    page = v2.list(
        status="scheduled",
        created_at_gt=since,
        limit=2,
        page=1,
        sort_order="ASC",
        sort_by="createdAt",
    )
    assert isinstance(page, CampaignSummaryPaginatedResponse)
    assert [c.name for c in page.results] == ["day-2", "day-3"]
    assert all(isinstance(c, CampaignSummary) for c in page.results)
    assert all(c.contact_counters is None and c.call_metrics is None for c in page.results)
    meta = page.metadata
    assert (meta.items_per_page, meta.total_items, meta.current_page) == (2, 3, 1)
    assert (meta.total_pages, meta.has_next_page, meta.sort_order) == (2, True, "ASC")

    second = v2.list(status="scheduled", created_at_gt=since, limit=2, page=2)
    assert [c.name for c in second.results] == ["day-2"]
    assert second.metadata.has_next_page is False

    counted = v2.list(include_counters=True, sort_order="ASC")
    pending = [c.contact_counters.pending if c.contact_counters else None for c in counted.results]
    assert pending == [0, 2, 3, 4]
    assert [c.status for c in counted.results] == ["cancelled", *["scheduled"] * 3]
    assert counted.results[0].contact_counters is not None
    assert counted.results[0].contact_counters.skipped == 1
    assert counted.results[0].ended_reason == "campaign.scheduled.ended-by-user"

    assert [c.id for c in v2.list(id=ids[2]).results] == [ids[2]]
    assert v2.list(id="not-a-uuid").results == []
    window = v2.list(
        created_at_ge=datetime(2030, 1, 2, 12, tzinfo=UTC),
        created_at_lt=datetime(2030, 1, 4, 12, tzinfo=UTC),
    )
    assert [c.name for c in window.results] == ["day-3", "day-2"]
    later = v2.list(updated_at_gt=utcnow() - timedelta(days=1), limit=0)
    assert later.results == []
    assert later.metadata.total_items == 4


def test_a_campaign_is_seen_through_both_versions(v2: V2Campaigns, vapi: Vapi) -> None:
    from_v2 = create(v2, 2, name="from v2")
    plan = [DialPlanEntry(phone_number_id="phone-a", customers=customers(1))]
    v1_create = v2.checking(vapi.campaigns.campaign_controller_create)
    from_v1 = v1_create(name="from v1", assistant_id="assistant-1", dial_plan=plan)
    flow = v1_create(
        name="flow", workflow_id="workflow-1", phone_number_id="phone-1", customers=customers(3)
    )

    seen_by_v1 = v2.checking(vapi.campaigns.campaign_controller_find_one)(from_v2.id)
    assert seen_by_v1.name == "from v2"
    assert [c.number for c in seen_by_v1.customers or []] == customer_numbers(2)
    listed_by_v1 = v2.checking(vapi.campaigns.campaign_controller_find_all)()
    assert {c.id for c in listed_by_v1.results} == {from_v2.id, from_v1.id, flow.id}

    planned = v2.get(from_v1.id)
    assert planned.name == "from v1"
    assert planned.phone_number_id is None  # a dial plan has several numbers
    assert planned.contact_counters is not None and planned.contact_counters.pending == 1
    flowing = v2.get(flow.id)
    assert flowing.assistant_id is None
    assert (flowing.model_extra or {})["workflowId"] == "workflow-1"
    assert {c.id for c in v2.list().results} == {from_v2.id, from_v1.id, flow.id}
    contacts = v2.contacts(from_v1.id)
    assert [c.number for c in contacts.results] == customer_numbers(1)


def test_cancel(v2: V2Campaigns, session: Session) -> None:
    created = create(v2, 3)
    cancelled = v2.update(created.id, status="cancelled", name="Renewals (off)")
    assert isinstance(cancelled, Campaign)
    assert cancelled.status == "cancelled"
    assert cancelled.ended_reason == "campaign.scheduled.ended-by-user"
    assert cancelled.name == "Renewals (off)"
    assert cancelled.calls_counter_scheduled == 0
    assert contact_statuses(session, campaign_id=created.id) == ["skipped"] * 3
    summary = v2.get(created.id)
    assert summary.status == "cancelled"
    assert summary.ended_reason == "campaign.scheduled.ended-by-user"
    assert summary.contact_counters is not None
    assert (summary.contact_counters.skipped, summary.contact_counters.pending) == (3, 0)
    assert refusal(lambda: v2.update(created.id, status="cancelled")) == [
        "status cannot be changed: campaign is cancelled"
    ]


def test_ended_is_vapis_v1_alias_of_cancelled(v2: V2Campaigns, session: Session) -> None:
    created = create(v2, 1)
    force_campaign(session, campaign_id=created.id, status="in-progress")
    ended = v2.update(created.id, status="ended")
    assert ended.status == "ended"
    assert ended.ended_reason == "campaign.in-progress.ended-by-user"


def test_pause_resume_and_our_extensions_on_v2(v2: V2Campaigns, session: Session) -> None:
    created = create(v2, 2)
    force_campaign(session, campaign_id=created.id, status="in-progress", started_at=utcnow())
    paused = v2.update(
        created.id, status="paused", request_options=ours(callingHours=HOURS, retryPlan=RETRY)
    )
    assert paused.status == "paused"
    assert {"pausedAt", "callingHours", "retryPlan"} <= extensions(paused)
    raw = v2.raw
    assert raw["pausedAt"]
    assert raw["callingHours"]["windows"] == HOURS["windows"]
    summary = v2.get(created.id)
    assert summary.status == "paused"
    assert v2.raw["pausedAt"] == raw["pausedAt"]
    assert v2.raw["retryPlan"]["retryOn"] == ["customer-busy"]
    resumed = v2.update(created.id, status="in-progress")
    assert resumed.status == "in-progress"
    assert "pausedAt" not in extensions(resumed)


def test_delete_archives(v2: V2Campaigns, vapi: Vapi) -> None:
    kept = create(v2, 1, name="kept")
    gone = create(v2, 2, name="gone")
    deleted = v2.delete(gone.id)
    assert isinstance(deleted, Campaign)
    assert deleted.id == gone.id
    assert deleted.status == "archived"
    assert deleted.ended_reason == "campaign.scheduled.ended-by-user"
    assert refusal(lambda: v2.get(gone.id), status=404) == "Campaign not found"
    assert refusal(lambda: v2.contacts(gone.id), status=404) == "Campaign not found"
    assert [c.id for c in v2.list().results] == [kept.id]
    with pytest.raises(ApiError) as raised:
        vapi.campaigns.campaign_controller_find_one(gone.id)
    assert raised.value.status_code == 404


BY_ID: dict[str, Callable[[V2Campaigns, str], object]] = {
    "get": lambda v2, campaign_id: v2.get(campaign_id),
    "update": lambda v2, campaign_id: v2.update(campaign_id, name="x"),
    "delete": lambda v2, campaign_id: v2.delete(campaign_id),
    "contacts": lambda v2, campaign_id: v2.contacts(campaign_id),
}


@pytest.mark.parametrize("method", sorted(BY_ID))
def test_unknown_ids_are_404(v2: V2Campaigns, session: Session, method: str) -> None:
    other_org = make_org(session, name="other")
    theirs = str(make_campaign(session, org=other_org, customers=1))
    for campaign_id in ("not-a-uuid", str(uuid.uuid4()), theirs):
        call = partial(BY_ID[method], v2, campaign_id)
        assert refusal(call, status=404) == "Campaign not found"


def test_without_a_key_is_401(api: TestClient, answers: list[httpx.Response]) -> None:
    stranger = Vapi(token="orch_wrong", base_url="http://testserver", httpx_client=api)
    stranger_v2 = V2Campaigns(stranger, answers)
    assert refusal(stranger_v2.list, status=401) == "Invalid API key"
    assert refusal(lambda: create(stranger_v2, 1), status=401) == "Invalid API key"
