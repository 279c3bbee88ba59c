"""``POST /campaign/{id}/customers`` (extension): customers appended from JSON or CSV, every
bad row named by row and column, ``onError=skip``, de-duplication against the campaign, and
counters that the recount agrees with."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import counter_drift
from orchestrator.config import get_settings
from orchestrator.models import Campaign
from tests.factories import customer_numbers, post_campaign
from tests.factories.contacts import contacts_of
from tests.support.errors import error_messages

CSV = {"Content-Type": "text/csv"}


def _append(
    api: TestClient, auth: dict[str, str], campaign_id: str, body: str | bytes, **query: str
) -> Response:
    response: Response = api.post(
        f"/campaign/{campaign_id}/customers",
        content=body,
        params=query,
        headers={**auth, **CSV},
    )
    return response


def _campaign(session: Session, campaign_id: str) -> Campaign:
    campaign = session.get(Campaign, uuid.UUID(campaign_id), populate_existing=True)
    assert campaign is not None
    return campaign


def test_csv_rows_become_contacts_after_the_existing_ones_with_their_variables(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = post_campaign(api, auth, customers=2)
    first, second = customer_numbers(2, start=100)
    body = (
        "\ufeffnumber,name,appointment date,externalId,timezone\r\n"
        f'{first},Ada,"Friday, 3pm",crm-1,America/Chicago\r\n'
        f'{second},,"two\nlines",,\r\n'
    )
    response = _append(api, auth, created["id"], body.encode())
    assert response.status_code == 201, response.text
    assert response.json() == {
        "campaignId": created["id"],
        "added": 2,
        "duplicates": 0,
        "rejected": 0,
        "errors": [],
        "errorCount": 0,
    }
    contacts = contacts_of(session, campaign_id=uuid.UUID(created["id"]))
    assert [contact.position for contact in contacts] == [0, 1, 2, 3]
    assert contacts[2].customer == {
        "number": first,
        "name": "Ada",
        "externalId": "crm-1",
        "timezone": "America/Chicago",
        "assistantOverrides": {"variableValues": {"appointment date": "Friday, 3pm"}},
    }
    assert contacts[3].customer == {
        "number": second,
        "assistantOverrides": {"variableValues": {"appointment date": "two\nlines"}},
    }
    assert contacts[2].zone_key.startswith("America/Chicago")
    campaign = _campaign(session, created["id"])
    assert campaign.contacts_total == 4
    assert contacts[2].zone_key in campaign.contact_zone_keys
    assert counter_drift(session, campaign=campaign) == {}
    read = api.get(f"/campaign/{created['id']}", headers=auth).json()
    assert read["callsCounterScheduled"] == 4
    assert len(read["customers"]) == 4


def test_json_customers_are_checked_as_creation_checks_them(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = post_campaign(api, auth, customers=1)
    number = customer_numbers(1, start=200)[0]
    url = f"/campaign/{created['id']}/customers"
    bad = api.post(url, json={"customers": [{"number": "12"}, {"name": "x"}]}, headers=auth)
    assert error_messages(bad, 400) == [
        "customers.0.number must be longer than or equal to 3 characters",
        "customers.1 must have a number or a sipUri",
        "2 problems in 2 customers: nothing added",
    ]
    twice = {"customers": [{"number": number}, {"number": number, "name": "Ada"}]}
    assert error_messages(api.post(url, json=twice, headers=auth), 400) == [
        "customers.1.number duplicates customers.0.number",
        "1 problems in 1 customers: nothing added",
    ]
    good = api.post(url, json={"customers": [{"number": number, "name": "Ada"}]}, headers=auth)
    assert good.status_code == 201, good.text
    assert good.json()["added"] == 1
    contacts = contacts_of(session, campaign_id=uuid.UUID(created["id"]))
    assert contacts[-1].customer == {"number": number, "name": "Ada"}
    assert counter_drift(session, campaign=_campaign(session, created["id"])) == {}
    empty = api.post(url, json={"customers": []}, headers=auth)
    assert error_messages(empty, 400) == ["customers should not be empty"]


def test_any_bad_row_refuses_the_file_naming_every_problem_and_nothing_is_written(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = post_campaign(api, auth, customers=1)
    existing = created["customers"][0]["number"]
    good, again = customer_numbers(2, start=300)
    body = (
        "number,name,email\n"
        f"{good},Ada,\n"
        "+1555,Bob,\n"
        f"{good},Copy,\n"
        f"{existing},Old,\n"
        f"{again},{'n' * 41},\n"
        f"{again}\n"
    )
    response = _append(api, auth, created["id"], body)
    assert error_messages(response, 400) == [
        "row 3, column number: must be a valid E.164 phone number",
        "row 4, column number: duplicates row 2",
        "row 5, column number: duplicates a contact already in the campaign",
        "row 6, column name: must be shorter than or equal to 40 characters",
        "row 7: has 1 cells where the header has 3 columns",
        "5 problems in 5 rows: nothing added",
    ]
    assert len(contacts_of(session, campaign_id=uuid.UUID(created["id"]))) == 1
    assert _campaign(session, created["id"]).contacts_total == 1


def test_on_error_skip_writes_the_good_rows_and_lists_the_rejected(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = post_campaign(api, auth, customers=1)
    existing = created["customers"][0]["number"]
    first, second = customer_numbers(2, start=400)
    body = f"number,city\n{first},Oslo\nnot-a-number,Rome\n{first},Oslo\n{existing},\n{second},\n"
    response = _append(api, auth, created["id"], body, onError="skip")
    assert response.status_code == 201, response.text
    assert response.json() == {
        "campaignId": created["id"],
        "added": 2,
        "duplicates": 2,
        "rejected": 1,
        "errors": [{"row": 3, "column": "number", "reason": "must be a valid E.164 phone number"}],
        "errorCount": 1,
    }
    contacts = contacts_of(session, campaign_id=uuid.UUID(created["id"]))
    assert [contact.number for contact in contacts] == [existing, first, second]
    assert contacts[1].customer["assistantOverrides"] == {"variableValues": {"city": "Oslo"}}
    campaign = _campaign(session, created["id"])
    assert campaign.contacts_total == 3
    assert counter_drift(session, campaign=campaign) == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the CSV body is empty: its first line must name the columns"),
        (b"name,email\nAda,a@example.com\n", "CSV header: a 'number' column is required"),
        (b"number,name,name\n", "CSV header: column 'name' appears twice"),
        (b"Number,name\n", "CSV header: column 'Number' must be written 'number'"),
        (b"number,,x\n", "CSV header: column 2 has no name"),
        (b"\xff\xfe\x00garbage\x89PNG", "the body is not UTF-8 text (CSV)"),
        (b'number\n"+14155550100\n', "row 2: unexpected end of data"),
    ],
)
def test_a_body_that_is_no_usable_csv_is_one_clear_400(
    api: TestClient, auth: dict[str, str], body: bytes, message: str
) -> None:
    created = post_campaign(api, auth, customers=1)
    assert error_messages(_append(api, auth, created["id"], body), 400) == [message]


def test_a_line_without_end_is_refused_before_it_fills_the_memory(
    api: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestrator.contacts import csv_rows

    monkeypatch.setattr(csv_rows, "MAX_LINE_CHARS", 1_000)
    created = post_campaign(api, auth, customers=1)
    body = "number\n" + "9" * 5_000
    messages = error_messages(_append(api, auth, created["id"], body), 400)
    assert messages == ["a line is longer than 1000 characters"]


def test_more_rows_than_a_request_may_carry_is_a_413(
    api: TestClient, auth: dict[str, str], session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "max_import_rows", 2)
    created = post_campaign(api, auth, customers=1)
    body = "number\n" + "".join(f"{n}\n" for n in customer_numbers(3, start=500))
    response = _append(api, auth, created["id"], body)
    assert response.status_code == 413, response.text
    assert response.json()["message"] == "customers must contain no more than 2 rows per request"
    assert len(contacts_of(session, campaign_id=uuid.UUID(created["id"]))) == 1


def test_an_ended_campaign_takes_no_customers_and_an_unknown_one_is_a_404(
    api: TestClient, auth: dict[str, str]
) -> None:
    created = post_campaign(api, auth, customers=1)
    api.patch(f"/campaign/{created['id']}", json={"status": "ended"}, headers=auth)
    body = f"number\n{customer_numbers(1, start=600)[0]}\n"
    assert error_messages(_append(api, auth, created["id"], body), 400) == [
        "customers can only be added to a campaign that has not ended: it is ended"
    ]
    assert _append(api, auth, str(uuid.uuid4()), body).status_code == 404
    assert _append(api, auth, "not-an-id", body).status_code == 404


def test_a_dial_plan_campaign_takes_no_appended_customers(
    api: TestClient, auth: dict[str, str]
) -> None:
    plan = [{"phoneNumberId": "phone-2", "customers": [{"number": customer_numbers(1)[0]}]}]
    created = post_campaign(api, auth, customers=[], phone_number_id=None, dialPlan=plan)
    body = f"number\n{customer_numbers(1, start=700)[0]}\n"
    assert error_messages(_append(api, auth, created["id"], body), 400) == [
        "customers cannot be appended to a campaign with a dialPlan: each entry has its own"
    ]


def test_an_sms_campaign_renders_its_template_for_each_row_with_spaced_headers(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    plan = {"input": 'Hi {{customer.name}}, see you {{ ["appointment date"] }}.'}
    first = {
        "number": customer_numbers(1)[0],
        "name": "Ada",
        "assistantOverrides": {"variableValues": {"appointment date": "Monday"}},
    }
    created = post_campaign(api, auth, customers=[first], channel="sms", smsPlan=plan)
    second, third = customer_numbers(2, start=800)
    body = f"number,name,appointment date\n{second},Bob,Friday at 3\n{third},Cy,\n"
    response = _append(api, auth, created["id"], body)
    message, total = error_messages(response, 400)
    assert total == "1 problems in 1 rows: nothing added"
    assert message.startswith("row 3: smsPlan.input does not render:"), message
    response = _append(api, auth, created["id"], body, onError="skip")
    assert response.json()["added"] == 1
    customer: dict[str, Any] = contacts_of(session, campaign_id=uuid.UUID(created["id"]))[
        -1
    ].customer
    from orchestrator.texts.templates import render_text

    text = render_text(plan["input"], customer=customer, campaign_overrides=None)
    assert text == "Hi Bob, see you Friday at 3."
