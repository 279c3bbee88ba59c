"""Caller numbers: the provider's, each with the org's pacing. A caller number nobody
configured gets the defaults.

The list and the get answer the provider's numbers only. A number the org has a pacing record
for (set, or used by a campaign) that the provider does not list is not one it can dial from:
it is left out of the list and its get is a 404, while its pacing is kept and still applies.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.campaigns.schemas import ID_MAX_LENGTH
from orchestrator.config import get_settings
from orchestrator.exceptions import BadGateway, NotFound
from orchestrator.phone_numbers import repository
from orchestrator.phone_numbers.provider import ProviderNumbers
from orchestrator.phone_numbers.schemas import PacingIn, PhoneNumberListQuery
from orchestrator.phone_numbers.wire import (
    messages_per_second_or_default,
    pacing_record_to_wire,
    phone_number_to_wire,
)
from orchestrator.scheduling.capacity import CallerNumberPacing


def set_pacing(
    session: Session, *, org_id: uuid.UUID, provider_id: str, body: PacingIn
) -> dict[str, Any]:
    phone_number = repository.upsert_pacing(
        session,
        org_id=org_id,
        provider_id=provider_id,
        calls_per_second=body.calls_per_second,
        max_concurrency=body.max_concurrency,
        messages_per_second=body.messages_per_second,
    )
    return pacing_record_to_wire(phone_number)


# The provider is asked first, before the session touches the database: no connection is held
# while the provider takes its time.


def list_phone_numbers(
    session: Session, *, org_id: uuid.UUID, query: PhoneNumberListQuery, provider: ProviderNumbers
) -> list[dict[str, Any]]:
    found = provider.list(org_id=org_id, query=query)
    ids = [number["id"] for number in found]
    rows = repository.pacing_rows(session, org_id=org_id, provider_ids=ids)
    pacing = {row.provider_phone_number_id: row for row in rows}
    shown = [
        phone_number_to_wire(number, org_id=org_id, pacing=pacing.get(number["id"]))
        for number in found
    ]
    return [number for number in shown if number is not None]


def get_phone_number(
    session: Session, *, org_id: uuid.UUID, provider_id: str, provider: ProviderNumbers
) -> dict[str, Any]:
    # An id longer than any we store names no number a campaign could use.
    found = (
        provider.get(org_id=org_id, phone_number_id=provider_id)
        if len(provider_id) <= ID_MAX_LENGTH
        else None
    )
    if found is None:
        raise NotFound(f"Phone number {provider_id} not found")
    pacing = repository.get_phone_number(session, org_id=org_id, provider_id=provider_id)
    shown = phone_number_to_wire(found, org_id=org_id, pacing=pacing)
    if shown is None:
        raise BadGateway("The provider's answer could not be read.")
    return shown


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


def messages_per_second_of(
    session: Session, *, org_id: uuid.UUID, caller_number_id: str | None
) -> float:
    """The caller number's texts per second (the default when nobody set it)."""
    rows = repository.pacing_rows(
        session, org_id=org_id, provider_ids=[caller_number_id] if caller_number_id else []
    )
    return messages_per_second_or_default(rows[0] if rows else None)
