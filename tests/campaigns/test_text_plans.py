"""Campaigns that text: ``channel``, ``smsPlan`` and ``followUpPlan`` on v1 and v2, every
problem in one 400, and templates rendered for every contact at creation."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import campaign_body

SMS_PLAN = {"input": "Hi {{customer.name}}, see you at {{appointmentTime}}."}
FOLLOW_UP = {
    "sms": {
        "whenEndedReason": ["customer-did-not-answer", "voicemail"],
        "input": "Sorry we missed you, {{customer.name}}.",
    }
}


def _customers() -> list[dict[str, Any]]:
    values = {"variableValues": {"appointmentTime": "10:00"}}
    return [
        {"number": "+14155550101", "name": "Ada", "assistantOverrides": values},
        {"number": "+14155550102", "name": "Bob", "assistantOverrides": values},
    ]


@pytest.mark.parametrize("path", ["/campaign", "/v2/campaign"])
def test_an_sms_campaign_shows_its_channel_and_plan(
    api: TestClient, auth: dict[str, str], path: str
) -> None:
    body = campaign_body(customers=_customers(), channel="sms", smsPlan=SMS_PLAN)
    response = api.post(path, json=body, headers=auth)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["channel"] == "sms"
    assert created["smsPlan"] == {**SMS_PLAN, "useLLMGeneratedMessageForOutbound": False}
    read = api.get(f"{path}/{created['id']}", headers=auth).json()
    assert read["smsPlan"]["input"] == SMS_PLAN["input"]
    assert read["smsCounters"] == {"queued": 0, "sent": 0, "failed": 0, "replied": 0, "optedOut": 0}


def test_a_call_campaign_shows_no_channel_nor_sms_counters(
    api: TestClient, auth: dict[str, str]
) -> None:
    created = api.post("/campaign", json=campaign_body(), headers=auth).json()
    assert "channel" not in created
    assert "smsCounters" not in api.get(f"/campaign/{created['id']}", headers=auth).json()


@pytest.mark.parametrize("path", ["/campaign", "/v2/campaign"])
def test_every_problem_of_the_plans_is_in_one_answer(
    api: TestClient, auth: dict[str, str], path: str
) -> None:
    body = campaign_body(channel="sms", followUpPlan=FOLLOW_UP, maxConcurrency=0)
    response = api.post(path, json=body, headers=auth)
    assert response.status_code == 400
    message = " | ".join(response.json()["message"])
    assert "maxConcurrency" in message
    body = campaign_body(customers=_customers(), channel="sms", followUpPlan=FOLLOW_UP)
    response = api.post(path, json=body, headers=auth)
    assert response.status_code == 400
    assert sorted(response.json()["message"]) == [
        "followUpPlan is only for a campaign whose channel is call",
        "smsPlan.input is required when channel is sms",
    ]
    body = campaign_body(customers=_customers(), smsPlan=SMS_PLAN)
    response = api.post(path, json=body, headers=auth)
    assert response.json()["message"] == ["smsPlan is only for a campaign whose channel is sms"]


def test_a_template_that_does_not_render_names_each_contact(
    api: TestClient, auth: dict[str, str]
) -> None:
    customers = [*_customers(), {"number": "+14155550103", "name": "Cy"}]
    body = campaign_body(customers=customers, channel="sms", smsPlan=SMS_PLAN)
    response = api.post("/campaign", json=body, headers=auth)
    assert response.status_code == 400
    assert response.json()["message"] == [
        "smsPlan.input does not render for contact 2 (+14155550103): 'appointmentTime' is undefined"
    ]
    broken = campaign_body(followUpPlan={"sms": {**FOLLOW_UP["sms"], "input": "{% if %}"}})
    response = api.post("/campaign", json=broken, headers=auth)
    assert response.status_code == 400
    (message,) = response.json()["message"]
    assert message.startswith("followUpPlan.sms.input is not a valid template")


def test_a_template_that_loops_too_long_or_renders_too_long_a_text_is_refused(
    api: TestClient, auth: dict[str, str]
) -> None:
    nested = "{% for i in (1..3000) %}{% for j in (1..3000) %}x{% endfor %}{% endfor %}"
    body = campaign_body(customers=_customers(), channel="sms", smsPlan={"input": nested})
    response = api.post("/campaign", json=body, headers=auth)
    assert response.status_code == 400
    assert response.json()["message"] == [
        f"smsPlan.input does not render for contact {index} ({number}): "
        "loop iteration limit reached"
        for index, number in enumerate(["+14155550101", "+14155550102"])
    ]
    long = {"input": "{{customer.name}}" + "x" * 1598}
    body = campaign_body(customers=_customers(), channel="sms", smsPlan=long)
    response = api.post("/campaign", json=body, headers=auth)
    assert response.status_code == 400
    assert response.json()["message"] == [
        "smsPlan.input does not render for contact 0 (+14155550101): "
        "the text is 1601 characters long; at most 1600 are sent",
        "smsPlan.input does not render for contact 1 (+14155550102): "
        "the text is 1601 characters long; at most 1600 are sent",
    ]


def test_follow_up_reasons_must_be_known_reasons_or_categories(
    api: TestClient, auth: dict[str, str]
) -> None:
    plan = {"sms": {**FOLLOW_UP["sms"], "whenEndedReason": ["no-answer", "not-a-reason"]}}
    response = api.post("/v2/campaign", json=campaign_body(followUpPlan=plan), headers=auth)
    assert response.status_code == 400
    assert "followUpPlan.sms.whenEndedReason.1" in " ".join(response.json()["message"])


@pytest.mark.parametrize("path", ["/campaign", "/v2/campaign"])
def test_a_follow_up_plan_is_patched_in_and_checked_against_the_contacts(
    api: TestClient, auth: dict[str, str], path: str
) -> None:
    created = api.post(path, json=campaign_body(customers=_customers()), headers=auth).json()
    bad = {"sms": {**FOLLOW_UP["sms"], "input": "{{appointmentTime}} {{missing}}"}}
    response = api.patch(f"{path}/{created['id']}", json={"followUpPlan": bad}, headers=auth)
    assert response.status_code == 400
    assert len(response.json()["message"]) == 2
    response = api.patch(f"{path}/{created['id']}", json={"followUpPlan": FOLLOW_UP}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["followUpPlan"]["sms"]["afterFinalAttempt"] is True
    refused = api.patch(f"{path}/{created['id']}", json={"smsPlan": SMS_PLAN}, headers=auth)
    assert refused.json()["message"] == ["smsPlan is only for a campaign whose channel is sms"]
