"""``POST /campaign`` rejects bad input with every problem listed and writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.config import get_settings
from orchestrator.models import Contact
from tests.factories import campaign_body, customer_numbers, row_counts
from tests.support.errors import error_messages

Reject = Callable[..., list[str]]


@pytest.fixture
def reject(api: TestClient, auth: dict[str, str], session: Session) -> Reject:
    """Post a body (or raw bytes) that must be refused; returns the NestJS ``message`` list."""

    def post(body: Any = None, *, content: bytes | None = None) -> list[str]:
        api.post("/campaign", json=campaign_body(customers=2), headers=auth)
        before = row_counts(session)
        headers = {**auth, "content-type": "application/json"}
        if content is None:
            response = api.post("/campaign", json=body, headers=headers)
        else:
            response = api.post("/campaign", content=content, headers=headers)
        messages = error_messages(response, 400)
        assert isinstance(messages, list)
        assert row_counts(session) == before
        return messages

    return post


def without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in keys}


def test_missing_name(reject: Reject) -> None:
    assert reject(without(campaign_body(), "name")) == ["name should not be empty"]


def test_empty_name(reject: Reject) -> None:
    assert reject(campaign_body(name="")) == ["name must be longer than or equal to 1 characters"]


TARGET_RULE = "exactly one of assistantId, workflowId or squadId must be provided"
CALLER_RULE = "exactly one of phoneNumberId or dialPlan must be provided"


def test_no_assistant_workflow_or_squad(reject: Reject) -> None:
    assert reject(without(campaign_body(), "assistantId")) == [TARGET_RULE]


@pytest.mark.parametrize(
    "targets",
    [
        {"workflowId": "workflow-1"},
        {"squadId": "squad-1"},
        {"workflowId": "workflow-1", "squadId": "squad-1"},
    ],
)
def test_more_than_one_of_assistant_workflow_squad(reject: Reject, targets: dict[str, str]) -> None:
    assert reject({**campaign_body(), **targets}) == [TARGET_RULE]


def test_both_phone_number_and_dial_plan(reject: Reject) -> None:
    plan = [{"phoneNumberId": "phone-2", "customers": [{"number": "+14155550100"}]}]
    body = without(campaign_body(dialPlan=plan), "customers")
    assert reject(body) == [CALLER_RULE]


def test_neither_phone_number_nor_dial_plan(reject: Reject) -> None:
    assert reject(without(campaign_body(), "phoneNumberId")) == [CALLER_RULE]


def test_customers_next_to_dial_plan(reject: Reject) -> None:
    plan = [{"phoneNumberId": "phone-2", "customers": [{"number": "+14155550100"}]}]
    body = without(campaign_body(dialPlan=plan), "phoneNumberId")
    assert reject(body) == ["customers must not be given with dialPlan"]


@pytest.mark.parametrize("customers", [[], None])
def test_empty_or_missing_customers(reject: Reject, customers: list[Any] | None) -> None:
    body = campaign_body(customers=0)
    body["customers"] = customers
    assert reject(body) == ["customers should not be empty"]


def test_empty_dial_plan_and_empty_entry(reject: Reject) -> None:
    body = without(campaign_body(dialPlan=[]), "phoneNumberId", "customers")
    assert reject(body) == ["dialPlan should not be empty"]
    body["dialPlan"] = [{"phoneNumberId": "phone-1", "customers": []}]
    assert reject(body) == ["dialPlan.0.customers should not be empty"]


def test_customer_without_number_or_sip_uri(reject: Reject) -> None:
    body = campaign_body(customers=2)
    body["customers"].append({"name": "Ada", "email": "ada@example.com"})
    assert reject(body) == ["customers.2 must have a number or a sipUri"]


@pytest.mark.parametrize(
    "number",
    ["4155550103", "+1 415 555 0103", "+1415555", "+19995550103", "+0014155550103", "+1415555abcd"],
)
def test_invalid_e164_number(reject: Reject, number: str) -> None:
    body = campaign_body(customers=5)
    body["customers"][3]["number"] = number
    assert reject(body) == ["customers.3.number must be a valid E.164 phone number"]


def test_e164_check_can_be_disabled_per_customer(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    body = campaign_body(customers=1)
    body["customers"].append({"number": "(415) 555-0177", "numberE164CheckEnabled": False})
    created = api.post("/campaign", json=body, headers=auth)
    assert created.status_code == 201, created.text
    stored = session.scalars(select(Contact.number).order_by(Contact.position)).all()
    assert stored == [body["customers"][0]["number"], "(415) 555-0177"]
    body["customers"].append({"number": "(415) 555-0178"})
    refused = api.post("/campaign", json=body, headers=auth)
    assert error_messages(refused, 400) == ["customers.2.number must be a valid E.164 phone number"]


def test_sip_uri_customers_need_no_number(api: TestClient, auth: dict[str, str]) -> None:
    body = campaign_body(customers=0)
    body["customers"] = [{"sipUri": "sip:ada@example.com"}]
    created = api.post("/campaign", json=body, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["customers"] == [{"sipUri": "sip:ada@example.com"}]


def test_duplicate_number_names_both_positions(reject: Reject) -> None:
    body = campaign_body(customers=4)
    body["customers"].append(dict(body["customers"][1]))
    assert reject(body) == ["customers.4.number duplicates customers.1.number"]


def test_numbers_differing_only_in_formatting_are_duplicates(reject: Reject) -> None:
    body = campaign_body(customers=0)
    body["customers"] = [
        {"number": "(415) 555-0100", "numberE164CheckEnabled": False},
        {"number": "415.555.0100", "numberE164CheckEnabled": False},
    ]
    assert reject(body) == ["customers.1.number duplicates customers.0.number"]


def test_duplicate_sip_uri(reject: Reject) -> None:
    body = campaign_body(customers=0)
    body["customers"] = [{"sipUri": "sip:ada@example.com"}, {"sipUri": "SIP:Ada@Example.com"}]
    assert reject(body) == ["customers.1.sipUri duplicates customers.0.sipUri"]


def test_duplicate_across_dial_plan_entries(reject: Reject) -> None:
    first, second, third = customer_numbers(3)
    plan = [
        {"phoneNumberId": "phone-a", "customers": [{"number": first}, {"number": second}]},
        {"phoneNumberId": "phone-b", "customers": [{"number": third}, {"number": first}]},
    ]
    body = without(campaign_body(dialPlan=plan), "phoneNumberId", "customers")
    assert reject(body) == [
        "dialPlan.1.customers.1.number duplicates dialPlan.0.customers.0.number"
    ]


def test_more_than_ten_thousand_customers(reject: Reject) -> None:
    assert reject(campaign_body(customers=10_001)) == [
        "customers must contain no more than 10000 elements"
    ]


def test_more_than_ten_thousand_customers_over_a_dial_plan(reject: Reject) -> None:
    numbers = customer_numbers(10_001)
    plan = [
        {"phoneNumberId": "phone-a", "customers": [{"number": n} for n in numbers[:5000]]},
        {"phoneNumberId": "phone-b", "customers": [{"number": n} for n in numbers[5000:]]},
    ]
    body = without(campaign_body(dialPlan=plan), "phoneNumberId", "customers")
    assert reject(body) == ["customers must contain no more than 10000 elements"]


def test_ten_thousand_customers_accepted(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    response = api.post("/campaign", json=campaign_body(customers=10_000), headers=auth)
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert campaign["callsCounterScheduled"] == 10_000
    assert campaign["contactCounters"]["total"] == 10_000
    assert len(campaign["customers"]) == 10_000
    of_campaign = Contact.campaign_id == uuid.UUID(campaign["id"])
    assert session.scalar(select(func.count()).select_from(Contact).where(of_campaign)) == 10_000
    assert session.scalar(select(func.max(Contact.position)).where(of_campaign)) == 9_999


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (
            {"earliestAt": "2030-01-01T10:00:00Z", "latestAt": "2030-01-01T09:00:00Z"},
            "schedulePlan.latestAt must be after earliestAt",
        ),
        (
            {"earliestAt": "2030-01-01T10:00:00Z", "latestAt": "2030-01-01T10:00:00Z"},
            "schedulePlan.latestAt must be after earliestAt",
        ),
        (
            {"earliestAt": "2030-01-01T10:00:00"},
            "schedulePlan.earliestAt must include a timezone offset (e.g. Z)",
        ),
        (
            {"earliestAt": "2030-01-01T10:00:00Z", "latestAt": "2030-01-01T09:00:00"},
            "schedulePlan.latestAt must include a timezone offset (e.g. Z)",
        ),
        ({"latestAt": "2030-01-01T10:00:00Z"}, "schedulePlan.earliestAt should not be empty"),
        (
            {"earliestAt": "next tuesday"},
            "schedulePlan.earliestAt must be a valid ISO 8601 date string",
        ),
    ],
)
def test_bad_schedule_plan(reject: Reject, plan: dict[str, str], message: str) -> None:
    assert reject(campaign_body(schedulePlan=plan)) == [message]


@pytest.mark.parametrize("value", [0, -3])
def test_max_concurrency_below_one(reject: Reject, value: int) -> None:
    assert reject(campaign_body(maxConcurrency=value)) == ["maxConcurrency must not be less than 1"]


def test_unknown_properties(reject: Reject) -> None:
    body = campaign_body(customers=2, priority="high")
    body["customers"][1]["phone"] = "+14155550100"
    assert reject(body) == [
        "property customers.1.phone should not exist",
        "property priority should not exist",
    ]


@pytest.mark.parametrize(
    ("field", "size", "message"),
    [
        ("name", 401, "name must be shorter than or equal to 400 characters"),
        ("assistantId", 201, "assistantId must be shorter than or equal to 200 characters"),
        ("phoneNumberId", 201, "phoneNumberId must be shorter than or equal to 200 characters"),
    ],
)
def test_too_long_values(reject: Reject, field: str, size: int, message: str) -> None:
    assert reject({**campaign_body(), field: "x" * size}) == [message]


@pytest.mark.parametrize(
    ("customer", "message"),
    [
        ({"sipUri": "sip:" + "a" * 252}, "customers.0.sipUri must be shorter than or equal to 255"),
        (
            {"sipUri": "sip:" + "İ" * 251},
            "customers.0.sipUri must be shorter than or equal to 255 characters once lower-cased",
        ),
        ({"number": "+1" + "4" * 39}, "customers.0.number must be shorter than or equal to 40"),
        ({"number": "+14155550100", "name": "n" * 41}, "customers.0.name must be shorter"),
        ({"number": "+14155550100", "extension": "1" * 11}, "customers.0.extension must be"),
    ],
)
def test_too_long_customer_values(reject: Reject, customer: dict[str, str], message: str) -> None:
    messages = reject(campaign_body(customers=[customer]))
    assert len(messages) == 1
    assert messages[0].startswith(message)


def test_too_long_dial_plan_phone_number_id(reject: Reject) -> None:
    plan = [{"phoneNumberId": "p" * 201, "customers": [{"number": "+14155550100"}]}]
    body = without(campaign_body(dialPlan=plan), "phoneNumberId", "customers")
    assert reject(body) == [
        "dialPlan.0.phoneNumberId must be shorter than or equal to 200 characters"
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", 5, "name must be a string"),
        ("assistantId", ["a"], "assistantId must be a string"),
        ("customers", "+14155550100", "customers must be an array"),
        ("customers", ["+14155550100"], "customers.0 must be an object"),
        ("maxConcurrency", "ten", "maxConcurrency must be an integer number"),
        ("maxConcurrency", 2.5, "maxConcurrency must be an integer number"),
        ("schedulePlan", "tomorrow", "schedulePlan must be an object"),
        ("assistantOverrides", [1], "assistantOverrides must be an object"),
        ("dialPlan", {"phoneNumberId": "p"}, "dialPlan must be an array"),
    ],
)
def test_wrong_types(reject: Reject, field: str, value: Any, message: str) -> None:
    assert message in reject(campaign_body(**{field: value}))


def test_wrong_customer_field_types(reject: Reject) -> None:
    body = campaign_body(customers=1)
    body["customers"][0].update(number=4155550100, numberE164CheckEnabled="nope", name=["x"])
    assert sorted(reject(body)) == [
        "customers.0.name must be a string",
        "customers.0.number must be a string",
        "customers.0.numberE164CheckEnabled must be a boolean value",
    ]


@pytest.mark.parametrize("raw", [b'{"name": ', b"name=x", b"", b"[1, 2"])
def test_malformed_json(reject: Reject, raw: bytes) -> None:
    messages = reject(content=raw)
    assert messages in (["body must be valid JSON"], ["body should not be empty"])


def test_body_that_is_not_an_object(reject: Reject) -> None:
    assert reject([campaign_body()]) == ["body must be an object"]


def test_every_error_is_listed_at_once(reject: Reject) -> None:
    body = {
        "assistantId": "assistant-1",
        "squadId": "squad-1",
        "maxConcurrency": 0,
        "colour": "blue",
        "schedulePlan": {"earliestAt": "2030-01-02T00:00:00Z", "latestAt": "2030-01-01T00:00:00Z"},
        "customers": [{"number": "+14155550100"}, {}, {"number": "12345"}, {"number": "555"}],
    }
    assert sorted(reject(body)) == sorted(
        [
            "name should not be empty",
            "customers.1 must have a number or a sipUri",
            "customers.2.number must be a valid E.164 phone number",
            "customers.3.number must be a valid E.164 phone number",
            "maxConcurrency must not be less than 1",
            "schedulePlan.latestAt must be after earliestAt",
            "property colour should not exist",
            TARGET_RULE,
            CALLER_RULE,
        ]
    )


def test_every_rule_between_fields_is_listed_at_once(reject: Reject) -> None:
    first, second, third = customer_numbers(3)
    plan = [
        {"phoneNumberId": "phone-a", "customers": [{"number": first}, {"number": third}]},
        {"phoneNumberId": "phone-b", "customers": [{"number": second}, {"number": third}]},
        {"phoneNumberId": "phone-c", "customers": []},
    ]
    body = campaign_body(customers=2, dialPlan=plan, workflowId="workflow-1")
    assert sorted(reject(body)) == sorted(
        [
            TARGET_RULE,
            CALLER_RULE,
            "customers must not be given with dialPlan",
            "dialPlan.2.customers should not be empty",
            "dialPlan.1.customers.1.number duplicates dialPlan.0.customers.1.number",
            "customers.0.number duplicates dialPlan.0.customers.0.number",
            "customers.1.number duplicates dialPlan.1.customers.0.number",
        ]
    )


def test_a_predial_plan_needs_a_server_url_and_a_server_needs_a_real_url(reject: Reject) -> None:
    messages = reject(
        {
            **campaign_body(customers=1),
            "predialPlan": {},
            "server": {"url": "ftp://hooks.example.com", "timeoutSeconds": 301},
            "serverMessages": ["contact.dispatched", "contact.exploded"],
        }
    )
    assert "predialPlan requires server.url" not in messages
    assert any(m.startswith("server.url") and "http or https" in m for m in messages), messages
    assert any(m.startswith("server.timeoutSeconds") for m in messages), messages
    assert any(m.startswith("serverMessages.1") for m in messages), messages
    body = {**campaign_body(customers=1), "predialPlan": {}, "server": {"timeoutSeconds": 5}}
    assert reject(body) == ["predialPlan requires server.url"]


def test_a_disabled_predial_plan_is_kept_without_a_server(
    api: TestClient, auth: dict[str, str]
) -> None:
    body = {**campaign_body(customers=1), "predialPlan": {"enabled": False}}
    response = api.post("/campaign", json=body, headers=auth)
    assert response.status_code == 201, response.text
    assert response.json()["predialPlan"] == {"enabled": False}


def test_private_server_urls_are_refused_unless_the_setting_allows_them(
    api: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {**campaign_body(customers=1), "server": {"url": "http://169.254.169.254/latest"}}
    monkeypatch.setenv("ORCH_ALLOW_PRIVATE_SERVER_URLS", "false")
    get_settings.cache_clear()
    try:
        response = api.post("/campaign", json=body, headers=auth)
        [message] = error_messages(response, 400)
        assert message.startswith("server.url must not point at a loopback, private")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert api.post("/campaign", json=body, headers=auth).status_code == 201


@pytest.mark.parametrize("source", ["c0ffee00-0000-4000-8000-000000000000", "not-a-uuid"])
def test_duplicate_of_no_campaign_is_refused(reject: Reject, source: str) -> None:
    body = campaign_body(customers=0, duplicateFromCampaignId=source)
    del body["customers"]
    assert reject(body) == ["duplicateFromCampaignId must be the id of a campaign of this org"]
