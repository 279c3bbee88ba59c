"""Asking the provider about our calls: which of its calls is ours, and what to ask about.

A create whose answer never came is looked for among the provider's calls for its number and
time, by the id we put in its metadata. What the provider's answer means for the call, and the
periodic sweep that asks, are ``flows.provider_view`` and ``flows.recover_calls``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.calls import lookup_repository
from orchestrator.providers.vapi import ProviderCall, VapiClient

# The provider's clock may differ from ours: look this far either side of our dial time.
CLOCK_MARGIN = timedelta(seconds=60)
LIST_PAGE = 1000


class Resolution(StrEnum):
    FOUND = "found"
    NOT_CREATED = "not-created"
    SETTLED = "settled"


def find_created_call(
    client: VapiClient,
    *,
    call_id: uuid.UUID,
    phone_number_id: str | None,
    dialed_at: datetime,
    latest_send: timedelta,
) -> dict[str, Any] | None:
    """The provider's call carrying our id in its metadata, among its caller number's calls then."""
    start, end = dialed_at - CLOCK_MARGIN, dialed_at + latest_send + CLOCK_MARGIN
    seen: set[str] = set()
    while True:
        page = client.list_calls(
            phone_number_id=phone_number_id,
            created_at_gt=start,
            created_at_lt=end,
            limit=LIST_PAGE,
        )
        for call in page:
            if _our_call_id(call) == str(call_id):
                return call.model_dump(mode="json", by_alias=True)
        fresh = [call for call in page if call.id not in seen]
        seen.update(call.id for call in page)
        oldest = min((c.created_at for c in page if c.created_at), default=None)
        if len(page) < LIST_PAGE or not fresh or oldest is None:
            return None
        # Newest first: the next page ends where this one did (ties at one instant overlap).
        end = oldest + timedelta(milliseconds=1)


def _our_call_id(call: ProviderCall) -> str | None:
    metadata = (call.assistant_overrides or {}).get("metadata") or {}
    value = metadata.get("orchestratorCallId")
    return str(value) if value is not None else None


def note_api_start(session: Session, *, now: datetime) -> int:
    """Webhooks sent while no API process listened are lost: every call the provider has is
    asked about at the next sweep. Returns how many."""
    return lookup_repository.make_provider_held_calls_due(session, now=now)
