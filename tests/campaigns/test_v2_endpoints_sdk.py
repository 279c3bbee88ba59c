"""``/v2/campaign`` through Vapi's Python SDK, as a customer would use it; one campaign table
serves both versions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from vapi import Vapi
from vapi.core.api_error import ApiError

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
    post_campaign,
)
from tests.support.vapi_v2 import V2Campaigns

pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")

HOURS = {"windows": [{"days": ["mon", "tue"], "start": "09:00", "end": "17:00"}]}
RETRY = {"maxAttempts": 2, "retryOn": ["customer-busy"], "delaySeconds": 60}
SCHEDULE = {"earliestAt": "2030-03-01T09:00:00.000Z", "latestAt": "2030-03-01T17:30:00.000Z"}


@pytest.fixture
def v2(vapi: Vapi) -> V2Campaigns:
    return V2Campaigns(vapi)


def v2_body(count: int = 3, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Renewals",
        "assistantId": "assistant-1",
        "phoneNumberId": "phone-1",
        "customers": [
            {"number": n, "name": f"Customer {i}"} for i, n in enumerate(customer_numbers(count))
        ],
    }
    return {**body, **extra}


def test_create(v2: V2Campaigns, org: CreatedOrg) -> None:
    created = v2.create(
        v2_body(
            schedulePlan=SCHEDULE,
            callingHours=HOURS,
            retryPlan=RETRY,
            assistantOverrides={"variableValues": {"clinic": "North"}},
            maxConcurrency=4,
        )
    )
    assert created.org_id == str(org.org_id)
    assert created.status == "scheduled"
    assert created.assistant_id == "assistant-1"
    assert created.phone_number_id == "phone-1"
    assert [c.number for c in created.customers] == customer_numbers(3)
    assert created.calls == {}
    assert created.calls_counter_scheduled == 3
    raw = v2.last.json() if v2.last else {}
    assert raw["maxConcurrency"] == 4
    assert raw["callingHours"]["windows"] == HOURS["windows"]
    assert raw["retryPlan"]["maxAttempts"] == 2
    assert raw["contactCounters"]["pending"] == 3


def test_create_with_a_squad(v2: V2Campaigns) -> None:
    body = v2_body(1)
    del body["assistantId"]
    created = v2.create({**body, "squadId": "squad-1"})
    assert created.model_extra is not None
    assert created.model_extra["squadId"] == "squad-1"
    assert created.assistant_id is None


def test_get_gives_counters_and_call_metrics_unless_asked_not_to(v2: V2Campaigns) -> None:
    created = v2.create(v2_body(2, schedulePlan=SCHEDULE, callingHours=HOURS))
    summary = v2.get(created.id)
    assert summary.id == created.id
    assert summary.name == "Renewals"
    assert summary.status == "scheduled"
    assert summary.assistant_id == "assistant-1"
    assert summary.phone_number_id == "phone-1"
    assert summary.schedule_plan == SCHEDULE
    assert summary.max_concurrency == 10
    assert summary.contact_counters is not None
    assert summary.contact_counters.pending == 2
    assert summary.contact_counters.completed == 0
    assert summary.call_metrics is not None
    assert (summary.call_metrics.dialed, summary.call_metrics.connected) == (0, 0)
    raw = v2.last.json() if v2.last else {}
    # A summary, not the v1 Campaign: no customers, calls map or v1 counters.
    assert not {"customers", "calls", "callsCounterScheduled", "dialPlan"} & set(raw)
    assert raw["callingHours"]["windows"] == HOURS["windows"]
    assert "pacing" in raw

    lean = v2.get(created.id, includeCounters="false")
    assert lean.contact_counters is None
    assert lean.call_metrics is None
    assert "pacing" not in (v2.last.json() if v2.last else {})


def _dial(session: Session, campaign_id: str, count: int) -> list[uuid.UUID]:
    calls = dispatch_campaign(
        session, campaign_id=uuid.UUID(campaign_id), now=utcnow(), batch_limit=count
    )
    assert len(calls) == count
    return calls


def test_call_metrics_count_calls_the_provider_took_and_those_a_person_answered(
    v2: V2Campaigns, session: Session
) -> None:
    created = v2.create(v2_body(6))
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
    page = v2.list(includeCounters="true")
    assert page.results[0].call_metrics == summary.call_metrics
    assert page.results[0].contact_counters == summary.contact_counters


def test_list_with_filters_paging_and_counters(v2: V2Campaigns, session: Session) -> None:
    ids = []
    for day in (1, 2, 3, 4):
        created = v2.create(v2_body(day, name=f"day-{day}"))
        force_campaign(
            session, campaign_id=created.id, created_at=datetime(2030, 1, day, 12, tzinfo=UTC)
        )
        ids.append(created.id)
    v2.update(ids[0], {"status": "cancelled"})

    page = v2.list(
        status="scheduled",
        createdAtGt="2030-01-01T12:00:00Z",
        limit=2,
        page=1,
        sortOrder="ASC",
        sortBy="createdAt",
    )
    assert [c.name for c in page.results] == ["day-2", "day-3"]
    assert all(c.contact_counters is None and c.call_metrics is None for c in page.results)
    meta = page.metadata
    assert (meta.items_per_page, meta.total_items, meta.current_page) == (2, 3, 1)
    assert (meta.total_pages, meta.has_next_page, meta.sort_order) == (2, True, "ASC")

    second = v2.list(status="scheduled", createdAtGt="2030-01-01T12:00:00Z", limit=2, page=2)
    assert [c.name for c in second.results] == ["day-2"]
    assert second.metadata.has_next_page is False

    counted = v2.list(includeCounters="true", sortOrder="ASC")
    pending = [c.contact_counters.pending if c.contact_counters else None for c in counted.results]
    assert pending == [0, 2, 3, 4]
    assert [c.status for c in counted.results] == ["cancelled", *["scheduled"] * 3]
    assert counted.results[0].contact_counters is not None
    assert counted.results[0].contact_counters.skipped == 1

    assert [c.id for c in v2.list(id=ids[2]).results] == [ids[2]]
    assert v2.list(id="not-a-uuid").results == []
    window = v2.list(createdAtGe="2030-01-02T12:00:00Z", createdAtLt="2030-01-04T12:00:00Z")
    assert [c.name for c in window.results] == ["day-3", "day-2"]
    later = v2.list(updatedAtGt=(utcnow() - timedelta(days=1)).isoformat(), limit=0)
    assert later.results == []
    assert later.metadata.total_items == 4


def test_a_campaign_is_seen_through_both_versions(
    v2: V2Campaigns, vapi: Vapi, api: TestClient, auth: dict[str, str]
) -> None:
    from_v2 = v2.create(v2_body(2, name="from v2"))
    plan = [{"phoneNumberId": "phone-a", "customers": [{"number": customer_numbers(1)[0]}]}]
    from_v1 = post_campaign(
        api, auth, customers=0, phoneNumberId=None, dialPlan=plan, name="from v1"
    )
    flow = post_campaign(api, auth, name="flow", assistantId=None, workflowId="workflow-1")

    seen_by_v1 = vapi.campaigns.campaign_controller_find_one(from_v2.id)
    assert seen_by_v1.name == "from v2"
    assert [c.number for c in seen_by_v1.customers] == customer_numbers(2)
    assert {c.id for c in vapi.campaigns.campaign_controller_find_all().results} == {
        from_v2.id,
        from_v1["id"],
        flow["id"],
    }

    planned = v2.get(from_v1["id"])
    assert planned.name == "from v1"
    assert planned.phone_number_id is None  # a dial plan has several numbers
    assert planned.contact_counters is not None and planned.contact_counters.pending == 1
    assert v2.get(flow["id"]).assistant_id is None
    assert v2.last is not None and v2.last.json()["workflowId"] == "workflow-1"
    assert {c.id for c in v2.list().results} == {from_v2.id, from_v1["id"], flow["id"]}
    contacts = v2.contacts(from_v1["id"])
    assert [c.number for c in contacts.results] == customer_numbers(1)


def test_cancel(v2: V2Campaigns, session: Session) -> None:
    created = v2.create(v2_body(3))
    cancelled = v2.update(created.id, {"status": "cancelled", "name": "Renewals (off)"})
    assert cancelled.status == "cancelled"
    assert cancelled.ended_reason == "campaign.scheduled.ended-by-user"
    assert cancelled.name == "Renewals (off)"
    assert contact_statuses(session, campaign_id=created.id) == ["skipped"] * 3
    summary = v2.get(created.id)
    assert summary.status == "cancelled"
    assert summary.contact_counters is not None
    assert (summary.contact_counters.skipped, summary.contact_counters.pending) == (3, 0)
    assert v2.refused("PATCH", f"v2/campaign/{created.id}", json={"status": "cancelled"}) == [
        "status cannot be changed: campaign is cancelled"
    ]


def test_ended_is_vapis_v1_alias_of_cancelled(v2: V2Campaigns, session: Session) -> None:
    created = v2.create(v2_body(1))
    force_campaign(session, campaign_id=created.id, status="in-progress")
    ended = v2.update(created.id, {"status": "ended"})
    assert ended.status == "ended"
    assert ended.ended_reason == "campaign.in-progress.ended-by-user"


def test_pause_resume_and_our_extensions_on_v2(v2: V2Campaigns, session: Session) -> None:
    created = v2.create(v2_body(2))
    force_campaign(session, campaign_id=created.id, status="in-progress", started_at=utcnow())
    v2.update(created.id, {"status": "paused", "callingHours": HOURS, "retryPlan": RETRY})
    paused = v2.last.json() if v2.last else {}
    assert paused["status"] == "paused"
    assert paused["pausedAt"]
    assert paused["callingHours"]["windows"] == HOURS["windows"]
    raw_summary = v2.send("GET", f"v2/campaign/{created.id}").json()
    assert raw_summary["status"] == "paused"
    assert raw_summary["pausedAt"] == paused["pausedAt"]
    assert raw_summary["retryPlan"]["retryOn"] == ["customer-busy"]
    resumed = v2.update(created.id, {"status": "in-progress"})
    assert resumed.status == "in-progress"
    assert "pausedAt" not in (v2.last.json() if v2.last else {})


def test_delete_archives(v2: V2Campaigns, vapi: Vapi) -> None:
    kept = v2.create(v2_body(1, name="kept"))
    gone = v2.create(v2_body(2, name="gone"))
    deleted = v2.delete(gone.id)
    assert deleted.status == "archived"
    assert deleted.ended_reason == "campaign.scheduled.ended-by-user"
    assert v2.refused("GET", f"v2/campaign/{gone.id}", status=404) == "Campaign not found"
    assert v2.refused("GET", f"v2/campaign/{gone.id}/contacts", status=404) == "Campaign not found"
    assert [c.id for c in v2.list().results] == [kept.id]
    with pytest.raises(ApiError) as raised:
        vapi.campaigns.campaign_controller_find_one(gone.id)
    assert raised.value.status_code == 404


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"name": "x"}),
        ("DELETE", "", None),
        ("GET", "/contacts", None),
    ],
)
def test_unknown_ids_are_404(
    v2: V2Campaigns, session: Session, method: str, suffix: str, body: Any
) -> None:
    other_org = make_org(session, name="other")
    theirs = str(make_campaign(session, org=other_org, customers=1))
    for campaign_id in ("not-a-uuid", str(uuid.uuid4()), theirs):
        path = f"v2/campaign/{campaign_id}{suffix}"
        assert v2.refused(method, path, status=404, json=body) == "Campaign not found"


def test_without_a_key_is_401(api: TestClient) -> None:
    stranger = V2Campaigns(Vapi(token="orch_wrong", base_url="http://testserver", httpx_client=api))
    assert stranger.refused("GET", "v2/campaign", status=401) == "Invalid API key"
    assert stranger.refused("POST", "v2/campaign", status=401, json=v2_body(1)) == (
        "Invalid API key"
    )
