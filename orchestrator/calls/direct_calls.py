"""Calls made outside campaigns (``/call``): create, list, get, rename, delete. No commits here.

A direct call is written ``scheduled``; the scheduler claims it under the same org and
caller-number limits and pacing as campaign calls, and the worker sends it. Reading covers
every call of the org, campaign calls included.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.calls import repository
from orchestrator.calls.schemas import (
    CallListQuery,
    CreateCallIn,
    DeleteCallIn,
    UpdateCallIn,
    create_rule_errors,
)
from orchestrator.calls.service import fail_call
from orchestrator.calls.wire import call_to_wire, campaign_target, vapi_status
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.contacts.service import CustomerBatch, NewContact, normalize_customers
from orchestrator.exceptions import NotFound, ValidationFailed, id_or_not_found
from orchestrator.models import Call, CallStatus
from orchestrator.models.enums import TERMINAL_CALL_STATUSES
from orchestrator.phone_numbers import repository as phone_numbers_repo
from orchestrator.reasons import SCHEDULED_CALL_DELETED, SCHEDULED_CALL_DELETED_MESSAGE
from orchestrator.suppression.service import suppressed_errors


def _customers(body: CreateCallIn) -> tuple[list[NewContact], list[str]]:
    """The customers to call, checked as a campaign's are (E.164, time zone, duplicates)."""
    if body.customers is not None:
        batch = CustomerBatch("customers", body.phone_number_id, body.customers)
        return normalize_customers([batch])
    if body.customer is None:
        return [], []
    contacts, errors = normalize_customers(
        [CustomerBatch("customer", body.phone_number_id, [body.customer])]
    )
    # A batch of one: its errors name ``customer``, not the batch's first element.
    return contacts, [error.replace("customer.0", "customer", 1) for error in errors]


def validate_create(body: CreateCallIn, *, now: datetime, max_customers: int) -> list[NewContact]:
    """Every broken rule at once, or the customers to call; nothing is written either way."""
    errors = create_rule_errors(body.given_fields())
    if body.customers is not None and len(body.customers) > max_customers:
        errors.append(f"customers must contain no more than {max_customers} elements")
        raise ValidationFailed(errors)
    plan = body.schedule_plan
    if plan is not None and plan.latest_at is not None and plan.latest_at <= now:
        errors.append("schedulePlan.latestAt must be in the future")
    contacts, customer_errors = _customers(body)
    errors += customer_errors
    if errors:
        raise ValidationFailed(errors)
    return contacts


def refuse_suppressed(
    session: Session, *, org_id: uuid.UUID, body: CreateCallIn, contacts: Sequence[NewContact]
) -> None:
    """A customer on the org's suppression list fails the whole request, naming the number."""
    batch = body.customers is not None
    numbers = [
        (f"customers.{contact.position}.number" if batch else "customer.number", contact.number)
        for contact in contacts
        if contact.number
    ]
    errors = suppressed_errors(session, org_id=org_id, numbers=numbers, now=utcnow())
    if errors:
        raise ValidationFailed(errors)


def create_direct_calls(
    session: Session, *, org_id: uuid.UUID, body: CreateCallIn
) -> dict[str, Any]:
    """One ``scheduled`` call per customer; a Call, or Vapi's batch answer for ``customers``."""
    now = utcnow()
    contacts = validate_create(
        body, now=now, max_customers=get_settings().max_customers_per_request
    )
    refuse_suppressed(session, org_id=org_id, body=body, contacts=contacts)
    plan = body.schedule_plan
    request = body.provider_request()
    calls = [
        Call(
            id=uuid.uuid4(),
            org_id=org_id,
            campaign_id=None,
            contact_id=None,
            attempt=1,
            status=CallStatus.SCHEDULED,
            phone_number_id=body.phone_number_id,
            customer=contact.customer,
            request=dict(request),
            name=body.name,
            not_before=plan.earliest_at if plan else None,
            not_after=plan.latest_at if plan else None,
        )
        for contact in contacts
    ]
    repository.add_calls(session, calls)
    if body.phone_number_id is not None:
        phone_numbers_repo.ensure_phone_numbers(
            session, org_id=org_id, provider_ids=[body.phone_number_id]
        )
    rendered = [call_to_wire(call, target=call.request, now=now) for call in calls]
    if body.customers is None:
        return rendered[0]
    # All or nothing: a bad customer fails the whole request, so no call is ever in ``errors``.
    return {"results": rendered, "errors": []}


def render_calls(session: Session, calls: Sequence[Call], *, now: datetime) -> list[dict[str, Any]]:
    """Calls in Vapi's shape: a campaign call runs what its campaign says, a direct call its own."""
    campaign_ids = sorted({call.campaign_id for call in calls if call.campaign_id is not None})
    campaigns = repository.campaigns_by_id(session, campaign_ids=campaign_ids)
    rendered = []
    for call in calls:
        campaign = campaigns.get(call.campaign_id) if call.campaign_id else None
        target = campaign_target(campaign) if campaign is not None else call.request
        rendered.append(call_to_wire(call, target=target, now=now))
    return rendered


def list_calls(
    session: Session, *, org_id: uuid.UUID, query: CallListQuery
) -> list[dict[str, Any]]:
    calls = repository.list_calls_for_org(session, org_id=org_id, query=query)
    return render_calls(session, calls, now=utcnow())


def _require(session: Session, org_id: uuid.UUID, call_id: str, *, lock: bool) -> Call:
    """The org's call, or a 404 (also for an id that is not a UUID)."""
    parsed = id_or_not_found(call_id, message="Call not found")
    call = repository.get_call_for_org(session, org_id=org_id, call_id=parsed, for_update=lock)
    if call is None:
        raise NotFound("Call not found")
    return call


def _one(session: Session, call: Call) -> dict[str, Any]:
    return render_calls(session, [call], now=utcnow())[0]


def get_call(session: Session, *, org_id: uuid.UUID, call_id: str) -> dict[str, Any]:
    return _one(session, _require(session, org_id, call_id, lock=False))


def rename_call(
    session: Session, *, org_id: uuid.UUID, call_id: str, body: UpdateCallIn
) -> dict[str, Any]:
    call = _require(session, org_id, call_id, lock=True)
    if "name" in body.model_fields_set:
        call.name = body.name
        call.updated_at = utcnow()
        session.flush()
    return _one(session, call)


def delete_call(
    session: Session, *, org_id: uuid.UUID, call_id: str, body: DeleteCallIn | None
) -> dict[str, Any]:
    """Cancel a direct call not yet claimed, or remove an ended one; anything else is a 400.

    The row lock orders this against the scheduler's claim: a call it claimed first is in
    flight here, and one cancelled here is no longer ``scheduled`` when it looks.
    """
    if body is not None and body.ids is not None:
        raise ValidationFailed(["ids is not supported: delete calls one at a time"])
    call = _require(session, org_id, call_id, lock=True)
    if call.campaign_id is not None:
        raise ValidationFailed(
            [
                f"call belongs to campaign {call.campaign_id}: "
                "stop it through the campaign (PATCH or DELETE /campaign/{id})"
            ]
        )
    if call.status == CallStatus.SCHEDULED:
        fail_call(
            session,
            call,
            reason=SCHEDULED_CALL_DELETED,
            message=SCHEDULED_CALL_DELETED_MESSAGE,
            unsent=True,
        )
        session.flush()
        return _one(session, call)
    if call.status in TERMINAL_CALL_STATUSES:
        rendered = _one(session, call)
        repository.delete_call(session, call)
        return rendered
    status = vapi_status(call.status)
    raise ValidationFailed([f"call is {status}: a call in flight cannot be deleted until it ends"])
