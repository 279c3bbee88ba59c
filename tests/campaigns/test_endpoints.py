"""The v1 campaign endpoints: create, get, list, update, delete, auth and org isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import counter_drift
from orchestrator.clock import utcnow
from orchestrator.models import Call, CallStatus, Campaign, Contact, ContactStatus, PhoneNumber
from orchestrator.orgs.service import CreatedOrg
from tests.factories import (
    at,
    campaign_body,
    contact_statuses,
    customer_numbers,
    dispatch_campaign,
    force_campaign,
    force_counters,
    make_org,
    post_campaign,
    start_campaign,
)
from tests.support.errors import error_messages

# --- create -----------------------------------------------------------------------------------


def test_create_then_get_returns_counters(api: TestClient, auth: dict[str, str]) -> None:
    created = api.post("/campaign", json=campaign_body(customers=3), headers=auth)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["status"] == "scheduled"
    assert campaign["callsCounterScheduled"] == 3
    fetched = api.get(f"/campaign/{campaign['id']}", headers=auth)
    assert fetched.status_code == 200
    assert fetched.json()["id"] == campaign["id"]


def test_create_with_phone_number_id(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    campaign = post_campaign(api, auth, customers=3, phone_number_id="phone-9")
    assert campaign["name"] == "Spring reminders"
    assert campaign["orgId"] == str(org.org_id)
    assert campaign["status"] == "scheduled"
    assert "endedReason" not in campaign
    assert campaign["assistantId"] == "assistant-1"
    assert campaign["phoneNumberId"] == "phone-9"
    assert campaign["maxConcurrency"] == 10
    assert campaign["calls"] == {}
    assert campaign["customers"] == [{"number": n} for n in customer_numbers(3)]
    assert campaign["createdAt"].endswith("Z")
    assert campaign["callsCounterScheduled"] == 3
    for counter in ("Queued", "InProgress", "Ended", "EndedVoicemail"):
        assert campaign[f"callsCounter{counter}"] == 0
    assert campaign["contactCounters"] == {
        "pending": 3,
        "dispatched": 0,
        "completed": 0,
        "failed": 0,
        "skipped": 0,
        "predialFailed": 0,
        "total": 3,
    }
    rows = session.execute(
        select(Contact.position, Contact.phone_number_id, Contact.number, Contact.status)
        .where(Contact.campaign_id == uuid.UUID(campaign["id"]))
        .order_by(Contact.position)
    ).all()
    assert [tuple(row) for row in rows] == [
        (i, "phone-9", number, "pending") for i, number in enumerate(customer_numbers(3))
    ]
    assert session.scalars(select(PhoneNumber.provider_phone_number_id)).all() == ["phone-9"]


def test_create_with_dial_plan_over_two_numbers(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    numbers = customer_numbers(5)
    plan = [
        {"phoneNumberId": "phone-a", "customers": [{"number": n} for n in numbers[:2]]},
        {"phoneNumberId": "phone-b", "customers": [{"number": n} for n in numbers[2:]]},
    ]
    body = {"name": "Two lines", "squadId": "squad-1", "dialPlan": plan}
    response = api.post("/campaign", json=body, headers=auth)
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert "phoneNumberId" not in campaign
    assert campaign["dialPlan"] == plan
    assert campaign["squadId"] == "squad-1"
    assert campaign["contactCounters"]["total"] == 5
    callers = session.execute(
        select(Contact.number, Contact.phone_number_id).order_by(Contact.position)
    ).all()
    assert [tuple(row) for row in callers] == [
        (numbers[0], "phone-a"),
        (numbers[1], "phone-a"),
        (numbers[2], "phone-b"),
        (numbers[3], "phone-b"),
        (numbers[4], "phone-b"),
    ]
    known = session.scalars(select(PhoneNumber.provider_phone_number_id)).all()
    assert sorted(known) == ["phone-a", "phone-b"]


def test_create_keeps_every_optional_field(api: TestClient, auth: dict[str, str]) -> None:
    overrides = {"variableValues": {"clinic": "Mission"}, "firstMessage": "Hi {{name}}"}
    customer = {"number": "+14155550100", "name": "Ada", "externalId": "crm-7", "extension": "12"}
    body = campaign_body(
        customers=0,
        maxConcurrency=3,
        assistantOverrides=overrides,
        schedulePlan={"earliestAt": "2030-01-01T09:00:00+02:00", "latestAt": "2030-01-01T17:00Z"},
        serverMessages=["campaign.ended"],
    )
    body["customers"] = [customer]
    response = api.post("/campaign", json=body, headers=auth)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["maxConcurrency"] == 3
    assert created["assistantOverrides"] == overrides
    assert created["schedulePlan"] == {
        "earliestAt": "2030-01-01T07:00:00.000Z",
        "latestAt": "2030-01-01T17:00:00.000Z",
    }
    assert created["serverMessages"] == ["campaign.ended"]
    assert created["customers"] == [customer]


# --- get --------------------------------------------------------------------------------------


def test_get_returns_counters_customers_and_calls(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = post_campaign(api, auth, customers=2)
    contact = session.scalars(select(Contact).order_by(Contact.position)).first()
    assert contact is not None
    for provider_call_id, status in (("prov-1", CallStatus.RINGING), (None, CallStatus.CLAIMED)):
        session.add(
            Call(
                org_id=contact.org_id,
                campaign_id=contact.campaign_id,
                contact_id=contact.id,
                provider_call_id=provider_call_id,
                status=status,
                customer=contact.customer,
                started_at=at("2030-01-01T10:00:00+00:00"),
            )
        )
    session.flush()
    fetched = api.get(f"/campaign/{created['id']}", headers=auth)
    assert fetched.status_code == 200
    campaign = fetched.json()
    assert campaign["calls"] == {
        "prov-1": {
            "customer": contact.customer,
            "status": "ringing",
            "endedReason": None,
            "startedAt": "2030-01-01T10:00:00.000Z",
            "endedAt": None,
        }
    }
    unchanged = ("id", "name", "customers", "contactCounters", "callsCounterScheduled")
    assert {key: campaign[key] for key in unchanged} == {key: created[key] for key in unchanged}


@pytest.mark.parametrize("campaign_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_get_unknown_campaign(api: TestClient, auth: dict[str, str], campaign_id: str) -> None:
    response = api.get(f"/campaign/{campaign_id}", headers=auth)
    assert error_messages(response, 404) == "Campaign not found"


# --- list -------------------------------------------------------------------------------------


def listing(api: TestClient, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    response = api.get("/campaign", params=params, headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"results", "metadata"}
    return body


def names(page: dict[str, Any]) -> list[str]:
    return [campaign["name"] for campaign in page["results"]]


@pytest.fixture
def dated(api: TestClient, auth: dict[str, str], session: Session) -> list[dict[str, Any]]:
    """Three campaigns created a day apart; updated in the opposite order."""
    campaigns = []
    for day, name in ((1, "jan-1"), (2, "jan-2"), (3, "jan-3")):
        campaign = post_campaign(api, auth, name=name, customers=1)
        force_campaign(
            session,
            campaign_id=campaign["id"],
            created_at=at(f"2030-01-0{day}T12:00:00+00:00"),
            updated_at=at(f"2030-02-0{4 - day}T12:00:00+00:00"),
        )
        campaigns.append(campaign)
    return campaigns


def test_list_envelope_defaults(
    api: TestClient, auth: dict[str, str], dated: list[dict[str, Any]]
) -> None:
    page = listing(api, auth)
    assert names(page) == ["jan-3", "jan-2", "jan-1"]
    assert page["metadata"] == {
        "itemsPerPage": 100,
        "totalItems": 3,
        "currentPage": 1,
        "totalPages": 1,
        "hasNextPage": False,
        "sortOrder": "DESC",
    }
    assert page["results"][0]["createdAt"] == "2030-01-03T12:00:00.000Z"
    assert page["results"][0]["updatedAt"] == "2030-02-01T12:00:00.000Z"


def test_list_by_id(api: TestClient, auth: dict[str, str], dated: list[dict[str, Any]]) -> None:
    assert names(listing(api, auth, id=dated[1]["id"])) == ["jan-2"]
    assert names(listing(api, auth, id=str(uuid.uuid4()))) == []
    assert names(listing(api, auth, id="not-a-uuid")) == []


def test_list_by_status(
    api: TestClient, auth: dict[str, str], session: Session, dated: list[dict[str, Any]]
) -> None:
    start_campaign(session, campaign_id=dated[0]["id"])
    api.patch(f"/campaign/{dated[1]['id']}", json={"status": "ended"}, headers=auth)
    assert names(listing(api, auth, status="in-progress")) == ["jan-1"]
    assert names(listing(api, auth, status="ended")) == ["jan-2"]
    assert names(listing(api, auth, status="scheduled")) == ["jan-3"]
    assert listing(api, auth, status="cancelled")["metadata"]["totalItems"] == 0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"createdAtGt": "2030-01-02T12:00:00Z"}, ["jan-3"]),
        ({"createdAtGe": "2030-01-02T12:00:00Z"}, ["jan-3", "jan-2"]),
        ({"createdAtLt": "2030-01-02T12:00:00Z"}, ["jan-1"]),
        ({"createdAtLe": "2030-01-02T12:00:00Z"}, ["jan-2", "jan-1"]),
        ({"createdAtGt": "2030-01-01T12:00:00Z", "createdAtLt": "2030-01-03T12:00:00Z"}, ["jan-2"]),
        ({"createdAtGe": "2030-01-02T13:00:00+01:00"}, ["jan-3", "jan-2"]),
        ({"updatedAtGt": "2030-02-02T12:00:00Z"}, ["jan-1"]),
        ({"updatedAtGe": "2030-02-02T12:00:00Z"}, ["jan-2", "jan-1"]),
        ({"updatedAtLt": "2030-02-02T12:00:00Z"}, ["jan-3"]),
        ({"updatedAtLe": "2030-02-02T12:00:00Z"}, ["jan-3", "jan-2"]),
        ({"createdAtGe": "2030-01-02T00:00:00Z", "updatedAtGe": "2030-02-02T00:00:00Z"}, ["jan-2"]),
    ],
)
def test_list_by_time(
    api: TestClient,
    auth: dict[str, str],
    dated: list[dict[str, Any]],
    params: dict[str, str],
    expected: list[str],
) -> None:
    page = listing(api, auth, **params)
    assert names(page) == expected
    assert page["metadata"]["totalItems"] == len(expected)


def test_list_sort_order(
    api: TestClient, auth: dict[str, str], dated: list[dict[str, Any]]
) -> None:
    ascending = listing(api, auth, sortOrder="ASC")
    assert names(ascending) == ["jan-1", "jan-2", "jan-3"]
    assert ascending["metadata"]["sortOrder"] == "ASC"
    assert names(listing(api, auth, sortOrder="DESC")) == ["jan-3", "jan-2", "jan-1"]


@pytest.mark.parametrize(
    ("page", "expected", "has_next"),
    [(1, ["c4", "c3"], True), (2, ["c2", "c1"], True), (3, ["c0"], False), (4, [], False)],
)
def test_list_pages(
    api: TestClient,
    auth: dict[str, str],
    session: Session,
    page: int,
    expected: list[str],
    has_next: bool,
) -> None:
    for i in range(5):
        campaign = post_campaign(api, auth, name=f"c{i}", customers=1)
        force_campaign(
            session, campaign_id=campaign["id"], created_at=at(f"2030-01-0{i + 1}T00:00:00+00:00")
        )
    result = listing(api, auth, limit=2, page=page)
    assert names(result) == expected
    assert result["metadata"] == {
        "itemsPerPage": 2,
        "totalItems": 5,
        "currentPage": page,
        "totalPages": 3,
        "hasNextPage": has_next,
        "sortOrder": "DESC",
    }


def test_list_limit_zero_counts_without_results(
    api: TestClient, auth: dict[str, str], dated: list[dict[str, Any]]
) -> None:
    page = listing(api, auth, limit=0)
    assert page["results"] == []
    assert page["metadata"]["totalItems"] == 3
    assert page["metadata"]["itemsPerPage"] == 0
    assert page["metadata"]["hasNextPage"] is False


def test_list_limit_thousand_is_allowed(
    api: TestClient, auth: dict[str, str], dated: list[dict[str, Any]]
) -> None:
    assert listing(api, auth, limit=1000)["metadata"]["itemsPerPage"] == 1000


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 1001}, "limit must not be greater than 1000"),
        ({"limit": -1}, "limit must not be less than 0"),
        ({"limit": "many"}, "limit must be an integer number"),
        ({"page": 0}, "page must not be less than 1"),
        ({"sortOrder": "asc"}, "sortOrder must be one of the following values: ASC, DESC"),
        (
            {"status": "stopped"},
            "status must be one of the following values: "
            "scheduled, in-progress, paused, ended, cancelled, archived",
        ),
        ({"createdAtGt": "yesterday"}, "createdAtGt must be a valid ISO 8601 date string"),
    ],
)
def test_list_rejects_bad_query(
    api: TestClient, auth: dict[str, str], params: dict[str, Any], message: str
) -> None:
    response = api.get("/campaign", params=params, headers=auth)
    assert error_messages(response, 400) == [message]


# --- update -----------------------------------------------------------------------------------


def test_patch_name(api: TestClient, auth: dict[str, str], session: Session) -> None:
    created = post_campaign(api, auth)
    force_campaign(session, campaign_id=created["id"], updated_at=at("2030-01-01T00:00:00+00:00"))
    response = api.patch(f"/campaign/{created['id']}", json={"name": "Renamed"}, headers=auth)
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["name"] == "Renamed"
    assert patched["status"] == "scheduled"
    assert patched["updatedAt"] != "2030-01-01T00:00:00.000Z"
    assert api.get(f"/campaign/{created['id']}", headers=auth).json()["name"] == "Renamed"


def test_patch_rejects_bad_body(api: TestClient, auth: dict[str, str]) -> None:
    created = post_campaign(api, auth)
    response = api.patch(
        f"/campaign/{created['id']}", json={"status": "stopped", "name": ""}, headers=auth
    )
    assert sorted(error_messages(response, 400)) == [
        "name must be longer than or equal to 1 characters",
        "status must be one of the following values: "
        "ended, cancelled, paused, in-progress, scheduled",
    ]
    assert api.get(f"/campaign/{created['id']}", headers=auth).json()["status"] == "scheduled"


def test_patch_schedule_plan_while_scheduled(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = post_campaign(api, auth, customers=1)
    url = f"/campaign/{created['id']}"
    plan = {"earliestAt": "2030-05-01T08:00:00.000Z", "latestAt": "2030-05-01T18:00:00.000Z"}
    response = api.patch(url, json={"schedulePlan": plan}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["schedulePlan"] == plan
    backwards = {"earliestAt": plan["latestAt"], "latestAt": plan["earliestAt"]}
    refused = api.patch(url, json={"schedulePlan": backwards}, headers=auth)
    assert error_messages(refused, 400) == ["schedulePlan.latestAt must be after earliestAt"]
    start_campaign(session, campaign_id=created["id"])
    refused = api.patch(url, json={"schedulePlan": plan}, headers=auth)
    assert error_messages(refused, 400) == [
        "schedulePlan can only change while the campaign is scheduled"
    ]


def test_patch_phone_number_moves_every_contact(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = post_campaign(api, auth, customers=2)
    url = f"/campaign/{created['id']}"
    response = api.patch(url, json={"phoneNumberId": "phone-new"}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["phoneNumberId"] == "phone-new"
    callers = session.scalars(select(Contact.phone_number_id)).all()
    assert callers == ["phone-new", "phone-new"]
    known = session.scalars(select(PhoneNumber.provider_phone_number_id)).all()
    assert sorted(known) == ["phone-1", "phone-new"]
    # And they are dialed, from the new number: the tick goes through the campaign's numbers.
    campaign_id = uuid.UUID(created["id"])
    start_campaign(session, campaign_id=created["id"])
    claimed = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=10)
    assert len(claimed) == 2
    dialed_from = session.scalars(select(Call.phone_number_id).where(Call.id.in_(claimed))).all()
    assert dialed_from == ["phone-new", "phone-new"]


def test_patch_phone_number_once_started_or_with_a_dial_plan(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    running = post_campaign(api, auth, customers=1)
    start_campaign(session, campaign_id=running["id"])
    response = api.patch(f"/campaign/{running['id']}", json={"phoneNumberId": "p"}, headers=auth)
    assert error_messages(response, 400) == [
        "phoneNumberId can only change while the campaign is scheduled"
    ]
    plan = [{"phoneNumberId": "phone-a", "customers": [{"number": "+14155550100"}]}]
    planned = api.post(
        "/campaign", json={"name": "p", "assistantId": "a", "dialPlan": plan}, headers=auth
    ).json()
    response = api.patch(
        f"/campaign/{planned['id']}", json={"phoneNumberId": "p", "dialPlan": plan}, headers=auth
    )
    assert error_messages(response, 400) == [
        "dialPlan cannot be changed after creation",
        "phoneNumberId cannot be set on a campaign that has a dialPlan",
    ]
    assert session.scalars(select(Contact.phone_number_id)).all() == ["phone-1", "phone-a"]


@pytest.mark.parametrize(
    ("started", "status", "reason"),
    [
        (False, "ended", "campaign.scheduled.ended-by-user"),
        (False, "cancelled", "campaign.scheduled.ended-by-user"),
        (True, "ended", "campaign.in-progress.ended-by-user"),
        (True, "cancelled", "campaign.in-progress.ended-by-user"),
    ],
)
def test_patch_status_stops_dialing(
    api: TestClient,
    auth: dict[str, str],
    session: Session,
    started: bool,
    status: str,
    reason: str,
) -> None:
    created = post_campaign(api, auth, customers=4)
    if started:
        start_campaign(session, campaign_id=created["id"])
    response = api.patch(f"/campaign/{created['id']}", json={"status": status}, headers=auth)
    assert response.status_code == 200, response.text
    campaign = response.json()
    assert campaign["status"] == status
    assert campaign["endedReason"] == reason
    assert campaign["callsCounterScheduled"] == 0
    assert campaign["contactCounters"]["skipped"] == 4
    assert campaign["contactCounters"]["pending"] == 0
    assert contact_statuses(session, campaign_id=created["id"]) == ["skipped"] * 4
    assert api.get(f"/campaign/{created['id']}", headers=auth).json()["endedReason"] == reason


def test_patch_status_leaves_calls_in_flight(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = post_campaign(api, auth, customers=3)
    start_campaign(session, campaign_id=created["id"])
    first = session.scalars(select(Contact).where(Contact.position == 0)).one()
    first.status = ContactStatus.DISPATCHED
    force_counters(
        session,
        campaign_id=created["id"],
        contacts_pending=2,
        contacts_dispatched=1,
        calls_counter_scheduled=2,
        calls_counter_in_progress=1,
    )
    response = api.patch(f"/campaign/{created['id']}", json={"status": "ended"}, headers=auth)
    campaign = response.json()
    assert contact_statuses(session, campaign_id=created["id"]) == [
        "dispatched",
        "skipped",
        "skipped",
    ]
    assert campaign["callsCounterScheduled"] == 0
    assert campaign["callsCounterInProgress"] == 1
    assert campaign["contactCounters"]["dispatched"] == 1
    assert campaign["contactCounters"]["skipped"] == 2


@pytest.mark.parametrize("status", ["ended", "cancelled"])
def test_stopping_releases_claimed_calls_and_keeps_counters_exact(
    api: TestClient, auth: dict[str, str], session: Session, status: str
) -> None:
    created = post_campaign(api, auth, customers=5, maxConcurrency=2)
    campaign_id = uuid.UUID(created["id"])
    now = datetime.now(UTC)
    claimed = dispatch_campaign(session, campaign_id=campaign_id, now=now, batch_limit=500)
    assert len(claimed) == 2
    response = api.patch(f"/campaign/{created['id']}", json={"status": status}, headers=auth)
    campaign = response.json()
    assert campaign["status"] == status
    assert campaign["endedReason"] == "campaign.in-progress.ended-by-user"
    assert contact_statuses(session, campaign_id=created["id"]) == ["skipped"] * 5
    assert campaign["contactCounters"]["skipped"] == 5
    assert campaign["contactCounters"]["dispatched"] == 0
    assert campaign["callsCounterScheduled"] == 0
    assert campaign["callsCounterQueued"] == 0
    calls = session.scalars(select(Call.status).where(Call.campaign_id == campaign_id)).all()
    assert calls == [CallStatus.FAILED, CallStatus.FAILED]
    stored = session.get(Campaign, campaign_id, populate_existing=True)
    assert stored is not None
    assert counter_drift(session, campaign=stored) == {}


@pytest.mark.parametrize(("first", "second"), [("ended", "cancelled"), ("cancelled", "ended")])
def test_patch_status_of_a_stopped_campaign(
    api: TestClient, auth: dict[str, str], first: str, second: str
) -> None:
    created = post_campaign(api, auth)
    url = f"/campaign/{created['id']}"
    assert api.patch(url, json={"status": first}, headers=auth).status_code == 200
    for status in (first, second):
        response = api.patch(url, json={"status": status}, headers=auth)
        assert error_messages(response, 400) == [f"status cannot be changed: campaign is {first}"]
    campaign = api.get(url, headers=auth).json()
    assert campaign["status"] == first
    assert campaign["endedReason"] == "campaign.scheduled.ended-by-user"


def test_patch_unknown_campaign(api: TestClient, auth: dict[str, str]) -> None:
    response = api.patch(f"/campaign/{uuid.uuid4()}", json={"name": "x"}, headers=auth)
    assert error_messages(response, 404) == "Campaign not found"


# --- delete -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("started", "reason"),
    [(False, "campaign.scheduled.ended-by-user"), (True, "campaign.in-progress.ended-by-user")],
)
def test_delete_cancels_then_archives(
    api: TestClient, auth: dict[str, str], session: Session, started: bool, reason: str
) -> None:
    kept = post_campaign(api, auth, name="kept", customers=1)
    created = post_campaign(api, auth, customers=2, phone_number_id="phone-2")
    if started:
        start_campaign(session, campaign_id=created["id"])
    url = f"/campaign/{created['id']}"
    response = api.delete(url, headers=auth)
    assert response.status_code == 200, response.text
    deleted = response.json()
    assert deleted["id"] == created["id"]
    assert deleted["status"] == "archived"
    assert deleted["endedReason"] == reason
    assert deleted["contactCounters"]["skipped"] == 2
    assert contact_statuses(session, campaign_id=created["id"]) == ["skipped", "skipped"]
    assert error_messages(api.get(url, headers=auth), 404) == "Campaign not found"
    assert error_messages(api.patch(url, json={"name": "x"}, headers=auth), 404)
    assert error_messages(api.delete(url, headers=auth), 404)
    page = listing(api, auth)
    assert [c["id"] for c in page["results"]] == [kept["id"]]
    assert page["metadata"]["totalItems"] == 1
    assert names(listing(api, auth, id=created["id"])) == []
    assert names(listing(api, auth, status="archived")) == []


def test_delete_keeps_the_reason_of_an_ended_campaign(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = post_campaign(api, auth, customers=1)
    force_campaign(
        session, campaign_id=created["id"], status="ended", ended_reason="campaign.ended.success"
    )
    deleted = api.delete(f"/campaign/{created['id']}", headers=auth).json()
    assert deleted["status"] == "archived"
    assert deleted["endedReason"] == "campaign.ended.success"
    assert contact_statuses(session, campaign_id=created["id"]) == ["pending"]


# --- auth and org isolation -------------------------------------------------------------------

ENDPOINTS = [
    ("POST", "/campaign"),
    ("GET", "/campaign"),
    ("GET", "/campaign/{id}"),
    ("PATCH", "/campaign/{id}"),
    ("DELETE", "/campaign/{id}"),
]
BAD_HEADERS = [
    {},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer orch_not-a-real-key"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "orch_no-scheme"},
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("headers", BAD_HEADERS)
def test_wrong_or_missing_api_key(
    api: TestClient,
    auth: dict[str, str],
    session: Session,
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    created = post_campaign(api, auth, customers=1)
    body = campaign_body() if method == "POST" else {"status": "cancelled"}
    json = body if method in ("POST", "PATCH") else None
    response = api.request(method, path.format(id=created["id"]), json=json, headers=headers)
    message = error_messages(response, 401)
    assert isinstance(message, str)
    assert message
    assert len(contact_statuses(session, campaign_id=created["id"])) == 1
    assert api.get(f"/campaign/{created['id']}", headers=auth).json()["status"] == "scheduled"


def test_revoked_key_is_refused(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    from orchestrator.models import ApiKey

    assert api.get("/campaign", headers=auth).status_code == 200
    key = session.scalars(select(ApiKey).where(ApiKey.org_id == org.org_id)).one()
    key.revoked_at = at("2030-01-01T00:00:00+00:00")
    session.flush()
    assert error_messages(api.get("/campaign", headers=auth), 401) == "Invalid API key"


def test_other_orgs_campaign_is_not_found(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    other = make_org(session, name="globex")
    other_auth = {"Authorization": f"Bearer {other.api_key}"}
    theirs = post_campaign(api, other_auth, name="theirs", customers=2)
    mine = post_campaign(api, auth, name="mine", customers=1)
    url = f"/campaign/{theirs['id']}"
    assert error_messages(api.get(url, headers=auth), 404) == "Campaign not found"
    patch = api.patch(url, json={"status": "cancelled", "name": "x"}, headers=auth)
    assert error_messages(patch, 404) == "Campaign not found"
    assert error_messages(api.delete(url, headers=auth), 404) == "Campaign not found"
    assert names(listing(api, auth)) == ["mine"]
    assert names(listing(api, auth, id=theirs["id"])) == []
    assert names(listing(api, other_auth)) == ["theirs"]
    untouched = api.get(url, headers=other_auth).json()
    assert (untouched["name"], untouched["status"]) == ("theirs", "scheduled")
    assert contact_statuses(session, campaign_id=theirs["id"]) == ["pending", "pending"]
    assert error_messages(api.get(f"/campaign/{mine['id']}", headers=other_auth), 404)
