"""``/call`` and ``/call/{id}``: direct calls created, listed, read, renamed and deleted."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.calls import endpoints
from orchestrator.clock import ManualClock
from orchestrator.config import get_settings
from orchestrator.enqueue import TaskQueue, get_task_queue
from orchestrator.models import Call, CallStatus, Contact, PhoneNumber, WebhookEvent
from orchestrator.orgs.service import CreatedOrg
from tests.factories import customer_numbers, make_campaign, make_org
from tests.support.errors import error_messages

NUMBERS = customer_numbers(5)
OVERRIDES = {"variableValues": {"appointment": "Tuesday 10:00"}}


class Dispatches(TaskQueue):
    """Every dispatch the endpoints enqueued: the org, and whether a transaction was still open."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: list[tuple[uuid.UUID, bool]] = []
        self.fail = False

    def dispatch_org(self, org_id: uuid.UUID) -> None:
        self.seen.append((org_id, self.session.in_transaction()))
        if self.fail:
            raise ConnectionError("broker down")


@pytest.fixture(autouse=True)
def dispatches(api: TestClient, session: Session) -> Dispatches:
    recorder = Dispatches(session)
    assert isinstance(api.app, FastAPI)
    api.app.dependency_overrides[get_task_queue] = lambda: recorder
    return recorder


def call_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "assistantId": "assistant-1",
        "phoneNumberId": "phone-1",
        "customer": {"number": NUMBERS[0]},
    }
    body.update(extra)
    return {key: value for key, value in body.items() if value is not None}


def post_call(api: TestClient, auth: dict[str, str], **extra: Any) -> dict[str, Any]:
    response = api.post("/call", json=call_body(**extra), headers=auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def call_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Call)) or 0)


def row(session: Session, call_id: str) -> Call | None:
    return session.get(Call, uuid.UUID(call_id), populate_existing=True)


def force(session: Session, call_id: str, **values: Any) -> Call:
    """Put a call where a test needs it (as the scheduler or the webhooks would have)."""
    call = row(session, call_id)
    assert call is not None
    for name, value in values.items():
        setattr(call, name, value)
    session.flush()
    return call


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- create -----------------------------------------------------------------------------------


def test_create_one_call(
    api: TestClient,
    auth: dict[str, str],
    org: CreatedOrg,
    session: Session,
    clock: ManualClock,
    dispatches: Dispatches,
) -> None:
    customer = {"number": NUMBERS[0], "name": "Ada", "timezone": "Europe/London"}
    created = post_call(api, auth, customer=customer, name="Reminder", assistantOverrides=OVERRIDES)
    assert created == {
        "id": created["id"],
        "orgId": str(org.org_id),
        "type": "outboundPhoneCall",
        "status": "queued",
        "customer": customer,
        "createdAt": "2026-03-02T15:00:00.000Z",
        "updatedAt": "2026-03-02T15:00:00.000Z",
        "assistantId": "assistant-1",
        "assistantOverrides": OVERRIDES,
        "phoneNumberId": "phone-1",
        "name": "Reminder",
        "orchestrator": {"providerCallId": None, "attempt": 1, "contactId": None},
    }
    call = row(session, created["id"])
    assert call is not None
    assert (call.status, call.campaign_id, call.contact_id, call.attempt) == (
        CallStatus.SCHEDULED,
        None,
        None,
        1,
    )
    assert call.request == {"assistantId": "assistant-1", "assistantOverrides": OVERRIDES}
    assert call.customer == customer
    assert (call.not_before, call.not_after) == (None, None)
    assert dispatches.seen == [(org.org_id, False)]


def test_create_registers_the_caller_number(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    post_call(api, auth, phoneNumberId="phone-7")
    caller_number_ids = session.scalars(
        select(PhoneNumber.provider_phone_number_id).where(PhoneNumber.org_id == org.org_id)
    )
    assert list(caller_number_ids) == ["phone-7"]


def test_create_a_batch(
    api: TestClient, auth: dict[str, str], session: Session, dispatches: Dispatches
) -> None:
    customers = [{"number": n, "name": f"Customer {i}"} for i, n in enumerate(NUMBERS[:3])]
    response = api.post(
        "/call", json=call_body(customer=None, customers=customers, name="Batch"), headers=auth
    )
    assert response.status_code == 201, response.text
    batch = response.json()
    assert set(batch) == {"results", "errors"}
    assert batch["errors"] == []
    assert [call["customer"] for call in batch["results"]] == customers
    assert {call["name"] for call in batch["results"]} == {"Batch"}
    assert len({call["id"] for call in batch["results"]}) == 3
    assert call_count(session) == 3
    assert len(dispatches.seen) == 1


def test_a_batch_of_one_answers_as_a_batch(api: TestClient, auth: dict[str, str]) -> None:
    body = call_body(customer=None, customers=[{"number": NUMBERS[1]}])
    batch = api.post("/call", json=body, headers=auth).json()
    assert [call["customer"]["number"] for call in batch["results"]] == [NUMBERS[1]]


def test_schedule_plan_ahead_is_scheduled_until_its_time(
    api: TestClient, auth: dict[str, str], session: Session, clock: ManualClock
) -> None:
    plan = {"earliestAt": "2026-03-02T16:00:00.000Z", "latestAt": "2026-03-02T18:00:00.000Z"}
    created = post_call(api, auth, schedulePlan=plan)
    assert created["status"] == "scheduled"
    assert created["schedulePlan"] == plan
    call = row(session, created["id"])
    assert call is not None
    assert call.not_before == at("2026-03-02T16:00:00+00:00")
    assert call.not_after == at("2026-03-02T18:00:00+00:00")
    clock.set(at("2026-03-02T16:00:00+00:00"))
    assert api.get(f"/call/{created['id']}", headers=auth).json()["status"] == "queued"


def test_schedule_plan_already_begun_is_queued(
    api: TestClient, auth: dict[str, str], clock: ManualClock
) -> None:
    created = post_call(api, auth, schedulePlan={"earliestAt": "2026-03-02T14:00:00+01:00"})
    assert created["status"] == "queued"
    assert created["schedulePlan"] == {"earliestAt": "2026-03-02T13:00:00.000Z"}


@pytest.mark.parametrize(
    "target",
    [
        {"assistant": {"name": "Temp", "firstMessage": "Hello"}, "assistantOverrides": OVERRIDES},
        {"squadId": "squad-1", "squadOverrides": OVERRIDES},
        {"squad": {"members": [{"assistantId": "assistant-2"}]}},
        {"workflowId": "workflow-1", "workflowOverrides": OVERRIDES},
        {"workflow": {"name": "Flow", "nodes": [], "edges": []}},
    ],
)
def test_create_with_each_kind_of_target(
    api: TestClient, auth: dict[str, str], session: Session, target: dict[str, Any]
) -> None:
    body = {**call_body(assistantId=None), **target}
    response = api.post("/call", json=body, headers=auth)
    assert response.status_code == 201, response.text
    created = response.json()
    for name, value in target.items():
        assert created[name] == value
    call = row(session, created["id"])
    assert call is not None
    assert call.request == target


def test_create_without_the_e164_check(api: TestClient, auth: dict[str, str]) -> None:
    customer = {"number": "5550100", "numberE164CheckEnabled": False}
    assert post_call(api, auth, customer=customer)["customer"] == customer


def test_create_to_a_sip_uri(api: TestClient, auth: dict[str, str]) -> None:
    customer = {"sipUri": "sip:ada@example.com"}
    assert post_call(api, auth, customer=customer)["customer"] == customer


# --- create: bad input ------------------------------------------------------------------------

Reject = Callable[[Any], list[str]]


@pytest.fixture
def reject(
    api: TestClient, auth: dict[str, str], session: Session, dispatches: Dispatches
) -> Reject:
    """Post a body that must be refused: a 400 in Vapi's shape, no row, no dispatch."""

    def post(body: Any) -> list[str]:
        before = call_count(session)
        messages = error_messages(api.post("/call", json=body, headers=auth), 400)
        assert isinstance(messages, list)
        assert call_count(session) == before
        assert dispatches.seen == []
        return messages

    return post


TARGET_RULE = (
    "exactly one of assistantId, assistant, squadId, squad, workflowId or workflow must be provided"
)
CUSTOMER_RULE = "exactly one of customer or customers must be provided"
PHONE_RULE = "phoneNumberId should not be empty: an outbound call needs a caller number"
E164 = "must be a valid E.164 phone number"


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        ({"assistantId": None}, [TARGET_RULE]),
        ({"squadId": "squad-1"}, [TARGET_RULE]),
        ({"assistant": {"name": "Temp"}}, [TARGET_RULE]),
        ({"phoneNumberId": None}, [PHONE_RULE]),
        ({"phoneNumberId": ""}, ["phoneNumberId must be longer than or equal to 1 characters"]),
        ({"customer": None}, [CUSTOMER_RULE]),
        ({"customers": [{"number": NUMBERS[1]}]}, [CUSTOMER_RULE]),
        ({"customer": None, "customers": []}, ["customers should not be empty"]),
        ({"customer": {"number": "+1415"}}, [f"customer.number {E164}"]),
        ({"customer": {"name": "Nobody"}}, ["customer must have a number or a sipUri"]),
        (
            {"customer": {"number": NUMBERS[0], "timezone": "Mars/Olympus"}},
            ["customer.timezone must be a valid IANA time zone name (e.g. America/New_York)"],
        ),
        (
            {"customer": None, "customers": [{"number": NUMBERS[0]}, {"number": "555"}]},
            [f"customers.1.number {E164}"],
        ),
        (
            {"customer": None, "customers": [{"number": NUMBERS[0]}, {"number": NUMBERS[0]}]},
            ["customers.1.number duplicates customers.0.number"],
        ),
        ({"name": "x" * 41}, ["name must be shorter than or equal to 40 characters"]),
        ({"assistantId": None, "assistant": "Temp"}, ["assistant must be an object"]),
        ({"assistantOverrides": []}, ["assistantOverrides must be an object"]),
        ({"colour": "blue"}, ["property colour should not exist"]),
    ],
)
def test_rejects_bad_fields(reject: Reject, changes: dict[str, Any], messages: list[str]) -> None:
    body = {**call_body(), **changes}
    assert reject({key: value for key, value in body.items() if value is not None}) == messages


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"transport": {"provider": "vapi.websocket"}}, "transport is not supported"),
        ({"phoneNumber": {"number": "+14155550199"}}, "phoneNumber is not supported"),
        ({"customerId": "customer-1"}, "customerId is not supported"),
        ({"assistantVersion": "3"}, "assistantVersion is not supported"),
    ],
)
def test_rejects_vapi_fields_we_do_not_support(
    reject: Reject, changes: dict[str, Any], message: str
) -> None:
    [answer] = reject(call_body(**changes))
    assert answer.startswith(message + ": ")


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"latestAt": "2026-03-03T00:00:00Z"}, "schedulePlan.earliestAt should not be empty"),
        (
            {"earliestAt": "2026-03-02T17:00:00Z", "latestAt": "2026-03-02T16:00:00Z"},
            "schedulePlan.latestAt must be after earliestAt",
        ),
        (
            {"earliestAt": "2026-03-02T12:00:00Z", "latestAt": "2026-03-02T15:00:00Z"},
            "schedulePlan.latestAt must be in the future",
        ),
        (
            {"earliestAt": "2026-03-02T17:00:00"},
            "schedulePlan.earliestAt must include a timezone offset (e.g. Z)",
        ),
        ({"earliestAt": "soon"}, "schedulePlan.earliestAt must be a valid ISO 8601 date string"),
    ],
)
def test_rejects_bad_schedule_plans(
    reject: Reject, clock: ManualClock, plan: dict[str, Any], message: str
) -> None:
    assert reject(call_body(schedulePlan=plan)) == [message]


def test_lists_every_problem_at_once(reject: Reject) -> None:
    body = call_body(phoneNumberId=None, customer={"number": "555"}, transport={})
    assert reject(body) == [
        f"customer.number {E164}",
        PHONE_RULE,
        "transport is not supported: calls go out over the phone number's provider",
    ]


def test_rejects_a_batch_larger_than_a_request_may_hold(
    reject: Reject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "max_customers_per_request", 2)
    customers = [{"number": n} for n in NUMBERS[:3]]
    messages = reject(call_body(customer=None, customers=customers))
    assert messages == ["customers must contain no more than 2 elements"]


def test_rejects_a_body_that_is_not_an_object(reject: Reject, api: TestClient) -> None:
    assert reject([call_body()]) == ["body must be an object"]


# --- enqueueing the dispatch ------------------------------------------------------------------


def test_dispatch_is_enqueued_only_after_the_commit(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, dispatches: Dispatches
) -> None:
    post_call(api, auth)
    [(org_id, transaction_open)] = dispatches.seen
    assert org_id == org.org_id
    assert transaction_open is False


def test_a_failed_enqueue_is_logged_and_the_call_stays(
    api: TestClient,
    auth: dict[str, str],
    session: Session,
    dispatches: Dispatches,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dispatches.fail = True
    with caplog.at_level(logging.WARNING, logger=endpoints.__name__):
        created = post_call(api, auth)
    assert row(session, created["id"]) is not None
    assert "could not enqueue dispatch" in caplog.text


# --- list and get -----------------------------------------------------------------------------


def campaign_call(
    session: Session, org: CreatedOrg, *, status: CallStatus = CallStatus.IN_PROGRESS
) -> Call:
    """A call of a campaign, as the scheduler and the webhooks leave it."""
    campaign_id = make_campaign(
        session, org=org, customers=1, assistantId="assistant-9", assistantOverrides=OVERRIDES
    )
    contact = session.scalars(select(Contact).where(Contact.campaign_id == campaign_id)).one()
    call = Call(
        org_id=org.org_id,
        campaign_id=campaign_id,
        contact_id=contact.id,
        attempt=1,
        status=status,
        provider_call_id=f"provider-{uuid.uuid4()}",
        phone_number_id="phone-1",
        customer=contact.customer,
    )
    session.add(call)
    session.flush()
    return call


def listing(api: TestClient, auth: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = api.get("/call", params=params, headers=auth)
    assert response.status_code == 200, response.text
    calls: list[dict[str, Any]] = response.json()
    assert isinstance(calls, list)
    return calls


@pytest.fixture
def dated(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session, clock: ManualClock
) -> list[str]:
    """Four calls an hour apart (the third a campaign call), updated in the opposite order."""
    ids = []
    for hour in range(4):
        clock.set(at(f"2026-03-02T1{hour}:00:00+00:00"))
        if hour == 2:
            ids.append(str(campaign_call(session, org).id))
        else:
            ids.append(post_call(api, auth, phoneNumberId=f"phone-{hour}", name=f"h{hour}")["id"])
    for hour, call_id in enumerate(ids):
        force(session, call_id, updated_at=at(f"2026-03-0{5 - hour}T00:00:00+00:00"))
    return ids


def test_list_is_newest_first_with_campaign_calls(
    api: TestClient, auth: dict[str, str], dated: list[str]
) -> None:
    calls = listing(api, auth)
    assert [call["id"] for call in calls] == dated[::-1]
    assert [call.get("name") for call in calls] == ["h3", None, "h1", "h0"]


def test_campaign_call_shows_what_its_campaign_runs(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    call = campaign_call(session, org)
    shown = api.get(f"/call/{call.id}", headers=auth).json()
    assert shown["campaignId"] == str(call.campaign_id)
    assert shown["assistantId"] == "assistant-9"
    assert shown["assistantOverrides"] == OVERRIDES
    assert shown["status"] == "in-progress"
    assert shown["customer"] == {"number": NUMBERS[0]}
    assert shown["orchestrator"] == {
        "providerCallId": call.provider_call_id,
        "attempt": 1,
        "contactId": str(call.contact_id),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"phoneNumberId": "phone-1"}, [2, 1]),
        ({"phoneNumberId": "phone-3"}, [3]),
        ({"assistantId": "assistant-1"}, [3, 1, 0]),
        ({"assistantId": "assistant-9"}, [2]),
        ({"assistantId": "assistant-0"}, []),
        ({"limit": 2}, [3, 2]),
        ({"limit": 0}, []),
        ({"createdAtGt": "2026-03-02T11:00:00Z"}, [3, 2]),
        ({"createdAtGe": "2026-03-02T11:00:00Z"}, [3, 2, 1]),
        ({"createdAtLt": "2026-03-02T11:00:00Z"}, [0]),
        ({"createdAtLe": "2026-03-02T12:00:00+01:00"}, [1, 0]),
        ({"updatedAtGt": "2026-03-04T00:00:00Z"}, [0]),
        ({"updatedAtGe": "2026-03-04T00:00:00Z"}, [1, 0]),
        ({"updatedAtLt": "2026-03-03T00:00:00Z"}, [3]),
        ({"updatedAtLe": "2026-03-03T00:00:00Z"}, [3, 2]),
        ({"createdAtGe": "2026-03-02T11:00:00Z", "updatedAtGe": "2026-03-03T00:00:00Z"}, [2, 1]),
    ],
)
def test_list_filters(
    api: TestClient,
    auth: dict[str, str],
    session: Session,
    dated: list[str],
    params: dict[str, Any],
    expected: list[int],
) -> None:
    assert [call["id"] for call in listing(api, auth, **params)] == [dated[i] for i in expected]


def test_list_by_id(api: TestClient, auth: dict[str, str], dated: list[str]) -> None:
    assert [call["id"] for call in listing(api, auth, id=dated[2])] == [dated[2]]
    assert listing(api, auth, id=str(uuid.uuid4())) == []
    assert listing(api, auth, id="not-a-uuid") == []


def test_list_limit_defaults_to_a_hundred(
    api: TestClient, auth: dict[str, str], clock: ManualClock
) -> None:
    customers = [{"number": n} for n in customer_numbers(101, start=100)]
    api.post("/call", json=call_body(customer=None, customers=customers), headers=auth)
    assert len(listing(api, auth)) == 100
    assert len(listing(api, auth, limit=1000)) == 101


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 1001}, "limit must not be greater than 1000"),
        ({"limit": -1}, "limit must not be less than 0"),
        ({"limit": "all"}, "limit must be an integer number"),
        ({"createdAtGt": "yesterday"}, "createdAtGt must be a valid ISO 8601 date string"),
    ],
)
def test_list_rejects_bad_query(
    api: TestClient, auth: dict[str, str], params: dict[str, Any], message: str
) -> None:
    assert error_messages(api.get("/call", params=params, headers=auth), 400) == [message]


def test_get_an_ended_call(
    api: TestClient, auth: dict[str, str], session: Session, clock: ManualClock
) -> None:
    created = post_call(api, auth)
    force(
        session,
        created["id"],
        status=CallStatus.ENDED,
        ended_reason="customer-ended-call",
        provider_call_id="provider-1",
        started_at=at("2026-03-02T15:01:00+00:00"),
        ended_at=at("2026-03-02T15:03:30+00:00"),
        cost=0.42,
        analysis={"successEvaluation": "true"},
        summary="Confirmed the appointment.",
    )
    shown = api.get(f"/call/{created['id']}", headers=auth).json()
    assert shown["status"] == "ended"
    assert shown["endedReason"] == "customer-ended-call"
    assert (shown["startedAt"], shown["endedAt"]) == (
        "2026-03-02T15:01:00.000Z",
        "2026-03-02T15:03:30.000Z",
    )
    assert shown["cost"] == 0.42
    assert shown["analysis"] == {
        "successEvaluation": "true",
        "summary": "Confirmed the appointment.",
    }
    assert shown["orchestrator"]["providerCallId"] == "provider-1"


@pytest.mark.parametrize("call_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_get_unknown_call(api: TestClient, auth: dict[str, str], call_id: str) -> None:
    assert error_messages(api.get(f"/call/{call_id}", headers=auth), 404) == "Call not found"


# --- org isolation ----------------------------------------------------------------------------


def test_another_orgs_calls_are_invisible(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    theirs = make_org(session, name="other")
    their_call = post_call(api, {"Authorization": f"Bearer {theirs.api_key}"})
    mine = post_call(api, auth, customer={"number": NUMBERS[1]})
    assert [call["id"] for call in listing(api, auth)] == [mine["id"]]
    assert listing(api, auth, id=their_call["id"]) == []
    path = f"/call/{their_call['id']}"
    assert error_messages(api.get(path, headers=auth), 404) == "Call not found"
    renamed = api.patch(path, json={"name": "Mine now"}, headers=auth)
    assert error_messages(renamed, 404) == "Call not found"
    assert error_messages(api.delete(path, headers=auth), 404) == "Call not found"
    call = row(session, their_call["id"])
    assert call is not None
    assert (call.status, call.name) == (CallStatus.SCHEDULED, None)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-key"}])
def test_requires_an_api_key(api: TestClient, session: Session, headers: dict[str, str]) -> None:
    assert api.get("/call", headers=headers).status_code == 401
    assert api.post("/call", json=call_body(), headers=headers).status_code == 401
    assert call_count(session) == 0


# --- update -----------------------------------------------------------------------------------


def test_patch_name(
    api: TestClient, auth: dict[str, str], session: Session, clock: ManualClock
) -> None:
    created = post_call(api, auth, name="Before")
    clock.advance(60)
    response = api.patch(f"/call/{created['id']}", json={"name": "After"}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "After"
    assert response.json()["updatedAt"] == "2026-03-02T15:01:00.000Z"
    call = row(session, created["id"])
    assert call is not None
    assert call.name == "After"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "ended"}, "property status should not exist"),
        ({"name": "x" * 41}, "name must be shorter than or equal to 40 characters"),
        ({"name": 7}, "name must be a string"),
    ],
)
def test_patch_rejects_anything_but_a_name(
    api: TestClient, auth: dict[str, str], session: Session, body: dict[str, Any], message: str
) -> None:
    created = post_call(api, auth, name="Kept")
    response = api.patch(f"/call/{created['id']}", json=body, headers=auth)
    assert error_messages(response, 400) == [message]
    call = row(session, created["id"])
    assert call is not None
    assert (call.name, call.status) == ("Kept", CallStatus.SCHEDULED)


# --- delete -----------------------------------------------------------------------------------


def delete(api: TestClient, auth: dict[str, str], call_id: str, **body: Any) -> Response:
    response = api.request("DELETE", f"/call/{call_id}", json=body or None, headers=auth)
    assert isinstance(response, Response)
    return response


def test_delete_a_scheduled_call_cancels_it(
    api: TestClient, auth: dict[str, str], session: Session, clock: ManualClock
) -> None:
    created = post_call(api, auth, schedulePlan={"earliestAt": "2026-03-03T09:00:00Z"})
    clock.advance(30)
    response = delete(api, auth, created["id"])
    assert response.status_code == 200, response.text
    deleted = response.json()
    assert deleted["status"] == "ended"
    assert deleted["endedReason"] == "scheduled-call-deleted"
    assert deleted["endedMessage"] == "deleted before it was placed"
    assert deleted["endedAt"] == "2026-03-02T15:00:30.000Z"
    call = row(session, created["id"])
    assert call is not None
    assert call.status == CallStatus.FAILED
    assert call.ended_reason == "scheduled-call-deleted"
    assert api.get(f"/call/{created['id']}", headers=auth).json()["status"] == "ended"


@pytest.mark.parametrize("status", [CallStatus.ENDED, CallStatus.FAILED])
def test_delete_an_ended_call_removes_it(
    api: TestClient, auth: dict[str, str], session: Session, status: CallStatus
) -> None:
    created = post_call(api, auth, name="Done")
    call = force(session, created["id"], status=status, ended_reason="customer-busy")
    message = {"message": {"type": "status-update", "status": "ended", "call": {"id": "p-1"}}}
    others = session.scalar(select(func.count()).select_from(WebhookEvent))
    session.add(WebhookEvent(message_type="status-update", payload=message, call_id=call.id,
                             org_id=call.org_id, outcome="applied"))  # fmt: skip
    session.flush()
    response = delete(api, auth, created["id"])
    assert response.status_code == 200, response.text
    deleted = response.json()
    assert (deleted["id"], deleted["status"], deleted["endedReason"], deleted["name"]) == (
        created["id"],
        "ended",
        "customer-busy",
        "Done",
    )
    assert row(session, created["id"]) is None
    assert error_messages(api.get(f"/call/{created['id']}", headers=auth), 404)
    remaining = session.scalar(select(func.count()).select_from(WebhookEvent))
    assert remaining == others, "the messages stored for it went with it"


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (CallStatus.CLAIMED, "queued"),
        (CallStatus.DIALING, "queued"),
        (CallStatus.QUEUED, "queued"),
        (CallStatus.RINGING, "ringing"),
        (CallStatus.IN_PROGRESS, "in-progress"),
    ],
)
def test_delete_a_call_in_flight_is_refused(
    api: TestClient, auth: dict[str, str], session: Session, status: CallStatus, shown: str
) -> None:
    created = post_call(api, auth)
    force(session, created["id"], status=status)
    messages = error_messages(delete(api, auth, created["id"]), 400)
    assert messages == [f"call is {shown}: a call in flight cannot be deleted until it ends"]
    call = row(session, created["id"])
    assert call is not None
    assert call.status == status


@pytest.mark.parametrize("status", [CallStatus.IN_PROGRESS, CallStatus.ENDED])
def test_delete_a_campaign_call_is_refused(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session, status: CallStatus
) -> None:
    call = campaign_call(session, org, status=status)
    [message] = error_messages(delete(api, auth, str(call.id)), 400)
    assert message.startswith(f"call belongs to campaign {call.campaign_id}")
    kept = row(session, str(call.id))
    assert kept is not None
    assert kept.status == status


def test_bulk_delete_is_refused(api: TestClient, auth: dict[str, str], session: Session) -> None:
    created = post_call(api, auth)
    messages = error_messages(delete(api, auth, created["id"], ids=[created["id"]]), 400)
    assert messages == ["ids is not supported: delete calls one at a time"]
    call = row(session, created["id"])
    assert call is not None
    assert call.status == CallStatus.SCHEDULED


def test_delete_with_an_empty_body(api: TestClient, auth: dict[str, str]) -> None:
    created = post_call(api, auth)
    response = api.request("DELETE", f"/call/{created['id']}", json={}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["endedReason"] == "scheduled-call-deleted"


def test_times_are_utc_with_milliseconds(api: TestClient, auth: dict[str, str]) -> None:
    created = post_call(api, auth, schedulePlan={"earliestAt": "2030-01-01T09:00:00+09:00"})
    assert created["schedulePlan"]["earliestAt"] == "2030-01-01T00:00:00.000Z"
    assert datetime.fromisoformat(created["createdAt"]) > datetime.now(UTC) - timedelta(days=1)
