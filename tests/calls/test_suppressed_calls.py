"""``POST /call`` to a number on the org's suppression list: a 400 naming it, nothing created."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from vapi import Vapi
from vapi.core.api_error import ApiError
from vapi.types import CreateCustomerDto

from orchestrator.clock import ManualClock
from orchestrator.models import Call
from orchestrator.orgs.service import CreatedOrg
from tests.factories import customer_numbers, make_org, suppress, suppress_rows


def _calls(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Call)) or 0)


def test_a_suppressed_customer_is_refused_by_its_number(
    vapi: Vapi, org: CreatedOrg, session: Session
) -> None:
    suppress(session, org=org, numbers=["+14155550100"], reason="dnc")
    before = _calls(session)
    with pytest.raises(ApiError) as raised:
        vapi.calls.create(
            assistant_id="assistant-1",
            phone_number_id="phone-1",
            customer=CreateCustomerDto(number="+14155550100"),
        )
    assert raised.value.status_code == 400
    assert raised.value.body == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": ["customer.number +14155550100 is on the suppression list (dnc)"],
    }
    assert _calls(session) == before


def test_a_batch_with_suppressed_customers_creates_none(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    numbers = customer_numbers(4)
    suppress(session, org=org, numbers=[numbers[1]], reason="opt-out")
    suppress(session, org=org, numbers=[numbers[3]], reason="legal")
    before = _calls(session)
    body = {
        "assistantId": "assistant-1",
        "phoneNumberId": "phone-1",
        "customers": [{"number": number} for number in numbers],
    }
    response = api.post("/call", json=body, headers=auth)
    assert response.status_code == 400
    assert response.json()["message"] == [
        f"customers.1.number {numbers[1]} is on the suppression list (opt-out)",
        f"customers.3.number {numbers[3]} is on the suppression list (legal)",
    ]
    assert _calls(session) == before


def test_an_expired_entry_or_another_orgs_lets_the_call_through(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session, clock: ManualClock
) -> None:
    suppress(
        session,
        org=org,
        numbers=["+14155550100"],
        expires_at=clock.now + timedelta(minutes=5),
    )
    suppress(session, org=make_org(session, name="other"), numbers=["+14155550101"])
    body = {"assistantId": "assistant-1", "phoneNumberId": "phone-1"}
    refused = api.post("/call", json={**body, "customer": {"number": "+14155550100"}}, headers=auth)
    assert refused.status_code == 400
    clock.advance(300)
    for number in ("+14155550100", "+14155550101"):
        created = api.post("/call", json={**body, "customer": {"number": number}}, headers=auth)
        assert created.status_code == 201, created.text


def test_a_number_is_refused_whichever_form_it_is_listed_under(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    suppress_rows(session, org=org, numbers=["+4402079460957"], reason="legal")
    suppress(session, org=org, numbers=["+44 (0)20 7946 0958"], reason="dnc")
    body = {
        "assistantId": "assistant-1",
        "phoneNumberId": "phone-1",
        "customers": [{"number": n} for n in ("+4402079460957", "+4402079460958")],
    }
    response = api.post("/call", json=body, headers=auth)
    assert response.status_code == 400
    assert response.json()["message"] == [
        "customers.0.number +4402079460957 is on the suppression list (legal)",
        "customers.1.number +4402079460958 is on the suppression list (dnc)",
    ], "as the import stored it, and by its canonical form"
