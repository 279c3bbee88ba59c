"""Caller numbers and their pacing. A caller number nobody configured gets the defaults."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.config import get_settings
from orchestrator.exceptions import NotFound
from orchestrator.models import PhoneNumber
from orchestrator.phone_numbers import repository
from orchestrator.phone_numbers.schemas import PacingIn, PhoneNumberListQuery
from orchestrator.scheduling.capacity import CallerNumberPacing
from orchestrator.wire import iso


def phone_number_to_wire(phone_number: PhoneNumber) -> dict[str, Any]:
    settings = get_settings()
    calls_per_second = phone_number.calls_per_second
    return {
        "id": phone_number.provider_phone_number_id,
        "orgId": str(phone_number.org_id),
        "createdAt": iso(phone_number.created_at),
        "updatedAt": iso(phone_number.updated_at),
        "pacing": {
            "callsPerSecond": (
                calls_per_second
                if calls_per_second is not None
                else settings.default_calls_per_second
            ),
            "maxConcurrency": phone_number.max_concurrency,
            "isDefault": calls_per_second is None,
        },
    }


def set_pacing(
    session: Session, *, org_id: uuid.UUID, provider_id: str, body: PacingIn
) -> dict[str, Any]:
    phone_number = repository.upsert_pacing(
        session,
        org_id=org_id,
        provider_id=provider_id,
        calls_per_second=body.calls_per_second,
        max_concurrency=body.max_concurrency,
    )
    return phone_number_to_wire(phone_number)


def get_phone_number(session: Session, *, org_id: uuid.UUID, provider_id: str) -> dict[str, Any]:
    phone_number = repository.get_phone_number(session, org_id=org_id, provider_id=provider_id)
    if phone_number is None:
        raise NotFound("Phone number not found")
    return phone_number_to_wire(phone_number)


def list_phone_numbers(
    session: Session, *, org_id: uuid.UUID, query: PhoneNumberListQuery
) -> list[dict[str, Any]]:
    phone_numbers = repository.list_phone_numbers(session, org_id=org_id, query=query)
    return [phone_number_to_wire(phone_number) for phone_number in phone_numbers]


def pacing_of_caller_numbers(
    session: Session, *, org_id: uuid.UUID, caller_number_ids: Sequence[str | None]
) -> dict[str | None, CallerNumberPacing]:
    """Each caller number's pacing; one nobody configured (or none at all) gets the defaults."""
    default = CallerNumberPacing(get_settings().default_calls_per_second, None)
    known = [pid for pid in caller_number_ids if pid is not None]
    pacing: dict[str | None, CallerNumberPacing] = dict.fromkeys(caller_number_ids, default)
    for row in repository.pacing_rows(session, org_id=org_id, provider_ids=known):
        pacing[row.provider_phone_number_id] = CallerNumberPacing(
            row.calls_per_second if row.calls_per_second is not None else default.calls_per_second,
            row.max_concurrency,
        )
    return pacing
