"""Vapi's official Python SDK against ``/call``, as a customer would use it.

The SDK builds its models without checking them, so every raw answer is also validated
strictly against the same models (after the SDK's own camelCase-to-field mapping).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from vapi import CreateCustomerDto, SchedulePlan, Vapi
from vapi.core.api_error import ApiError
from vapi.types import Call, CallBatchResponse

from orchestrator.models import Call as CallRow
from orchestrator.models import CallStatus, Contact
from orchestrator.orgs.service import CreatedOrg
from tests.factories import RecordedTasks, customer_numbers, make_campaign
from tests.support.sdk import strictly

# The SDK passes its own timeout on every request, which Starlette's TestClient only warns about.
pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")


NUMBERS = customer_numbers(3)
OVERRIDES = {"variableValues": {"plan": "gold"}}
EARLIEST = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
LATEST = datetime(2030, 3, 1, 17, 30, tzinfo=UTC)


def create_one(vapi: Vapi, **extra: Any) -> Call:
    created = vapi.calls.create(
        assistant_id="assistant-1",
        phone_number_id="phone-1",
        customer=CreateCustomerDto(number=NUMBERS[0], name="Ada"),
        name="Renewal",
        schedule_plan=SchedulePlan(earliest_at=EARLIEST, latest_at=LATEST),
        request_options={"additional_body_parameters": {"assistantOverrides": OVERRIDES}},
        **extra,
    )
    assert isinstance(created, Call)
    return created


def test_create_get_rename_delete(
    vapi: Vapi, answers: list[httpx.Response], org: CreatedOrg, tasks: RecordedTasks
) -> None:
    created = create_one(vapi)
    assert answers[-1].status_code == 201
    for parsed in (created, strictly(Call, answers[-1].json())):
        assert parsed.org_id == str(org.org_id)
        assert parsed.type == "outboundPhoneCall"
        assert parsed.status == "scheduled"
        assert parsed.assistant_id == "assistant-1"
        assert parsed.assistant_overrides is not None
        assert parsed.assistant_overrides.variable_values == OVERRIDES["variableValues"]
        assert parsed.phone_number_id == "phone-1"
        assert parsed.customer is not None
        assert (parsed.customer.number, parsed.customer.name) == (NUMBERS[0], "Ada")
        assert parsed.schedule_plan == SchedulePlan(earliest_at=EARLIEST, latest_at=LATEST)
        assert parsed.name == "Renewal"
    assert tasks.dispatched_orgs() == [org.org_id]
    fetched = vapi.calls.get(created.id)
    assert strictly(Call, answers[-1].json()) == fetched
    renamed = vapi.calls.update(created.id, name="Renewal (gold)")
    assert strictly(Call, answers[-1].json()).name == renamed.name == "Renewal (gold)"
    cancelled = vapi.calls.delete(created.id)
    for parsed in (cancelled, strictly(Call, answers[-1].json())):
        assert parsed.status == "ended"
        assert parsed.ended_reason == "scheduled-call-deleted"
    vapi.calls.delete(created.id)  # ended now: this removes it
    with pytest.raises(ApiError) as raised:
        vapi.calls.get(created.id)
    assert raised.value.status_code == 404
    assert raised.value.body == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "Call not found",
    }


def test_create_a_batch(vapi: Vapi, answers: list[httpx.Response]) -> None:
    batch = vapi.calls.create(
        assistant_id="assistant-1",
        phone_number_id="phone-1",
        customers=[CreateCustomerDto(number=number) for number in NUMBERS],
    )
    strict = strictly(CallBatchResponse, answers[-1].json())
    assert isinstance(batch, CallBatchResponse)
    for parsed in (batch, strict):
        assert [call.customer.number for call in parsed.results if call.customer] == NUMBERS
        assert {call.status for call in parsed.results} == {"queued"}
        assert parsed.errors == []


def test_create_error_reaches_the_sdk(vapi: Vapi, session: Session) -> None:
    with pytest.raises(ApiError) as raised:
        vapi.calls.create(
            assistant_id="assistant-1",
            phone_number_id="phone-1",
            customer=CreateCustomerDto(number="+1415"),
        )
    assert raised.value.status_code == 400
    assert raised.value.body == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": ["customer.number must be a valid E.164 phone number"],
    }
    assert session.scalars(select(CallRow)).first() is None


def ended_campaign_call(session: Session, org: CreatedOrg) -> CallRow:
    """A campaign's call as the webhooks leave it: ended, with a cost and an analysis."""
    campaign_id = make_campaign(session, org=org, customers=1, assistantId="assistant-9")
    contact = session.scalars(select(Contact).where(Contact.campaign_id == campaign_id)).one()
    call = CallRow(
        org_id=org.org_id,
        campaign_id=campaign_id,
        contact_id=contact.id,
        status=CallStatus.ENDED,
        ended_reason="voicemail",
        provider_call_id="provider-1",
        phone_number_id="phone-2",
        customer=contact.customer,
        started_at=datetime(2030, 1, 1, 9, tzinfo=UTC),
        ended_at=datetime(2030, 1, 1, 9, 1, tzinfo=UTC),
        cost=0.12,
        analysis={"summary": "Left a message.", "structuredData": {"callback": True}},
        summary="Left a message.",
    )
    session.add(call)
    session.flush()
    return call


def test_list_campaign_and_direct_calls(
    vapi: Vapi, answers: list[httpx.Response], org: CreatedOrg, session: Session
) -> None:
    campaign_call = ended_campaign_call(session, org)
    direct = create_one(vapi)
    listed = vapi.calls.list(limit=10)
    strict = [strictly(Call, raw) for raw in answers[-1].json()]
    assert [call.id for call in listed] == [call.id for call in strict]
    assert {call.id for call in strict} == {direct.id, str(campaign_call.id)}
    [shown] = [call for call in strict if call.id == str(campaign_call.id)]
    assert shown.campaign_id == str(campaign_call.campaign_id)
    assert shown.assistant_id == "assistant-9"
    assert (shown.status, shown.ended_reason, shown.cost) == ("ended", "voicemail", 0.12)
    assert shown.analysis is not None
    assert shown.analysis.summary == "Left a message."
    assert shown.analysis.structured_data == {"callback": True}
    by_caller = vapi.calls.list(phone_number_id="phone-2")
    assert [call.id for call in by_caller] == [str(campaign_call.id)]
    by_assistant = vapi.calls.list(assistant_id="assistant-1", created_at_ge=EARLIEST.replace(2020))
    assert [call.id for call in by_assistant] == [direct.id]
