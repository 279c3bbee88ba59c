"""Our session rows in Vapi's ``Session`` shape, under our ids."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic.alias_generators import to_camel

from orchestrator.campaigns.schemas import CustomerOut
from orchestrator.models import ChatSession, SessionStatus
from orchestrator.sessions.schemas import DEFAULT_EXPIRATION_SECONDS
from orchestrator.wire import iso

# The customer's fields Vapi's ``CreateCustomerDTO`` has (and our ``timezone``): a customer
# stored from the provider's news may carry others.
CUSTOMER_FIELDS = frozenset(to_camel(name) for name in CustomerOut.model_fields)


def customer_to_wire(customer: dict[str, Any] | None) -> dict[str, Any] | None:
    if not customer:
        return None
    return {key: value for key, value in customer.items() if key in CUSTOMER_FIELDS}


def expires_at(row: ChatSession) -> datetime | None:
    """When its silence ends it: ``expirationSeconds`` after its last message."""
    last = row.last_activity_at or row.created_at
    if last is None:
        return None
    return last + timedelta(seconds=row.expiration_seconds or DEFAULT_EXPIRATION_SECONDS)


def effective_status(row: ChatSession, *, now: datetime) -> SessionStatus:
    """A session past its expiration is ``completed`` before the sweep marks it so."""
    if row.status == SessionStatus.ACTIVE:
        ends = expires_at(row)
        if ends is not None and ends <= now:
            return SessionStatus.COMPLETED
    return SessionStatus(row.status)


def session_to_wire(row: ChatSession, *, now: datetime) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(row.id),
        "orgId": str(row.org_id),
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
        "cost": row.cost,
        "costs": row.costs,
        "name": row.name,
        "status": effective_status(row, now=now).value,
        "expirationSeconds": row.expiration_seconds,
        "assistantId": row.assistant_id,
        "assistant": row.assistant,
        "assistantOverrides": row.assistant_overrides,
        "squadId": row.squad_id,
        "squad": row.squad,
        "messages": list(row.messages or []),
        "customer": customer_to_wire(row.customer),
        "customerId": row.customer_id,
        "phoneNumberId": row.phone_number_id,
        "artifact": row.artifact,
    }
    return {key: value for key, value in body.items() if value is not None}
