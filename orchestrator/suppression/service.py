"""The suppression list for its org: adding numbers, reading and removing entries. No commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.exceptions import NotFound, ValidationFailed
from orchestrator.listing import page_metadata
from orchestrator.models import Suppression
from orchestrator.suppression import repository
from orchestrator.suppression.gate_lock import wait_for_sends
from orchestrator.suppression.numbers import canonical_number, lookup_forms
from orchestrator.suppression.repository import NewEntries
from orchestrator.suppression.schemas import AddSuppressionIn, SuppressionListQuery
from orchestrator.wire import iso

NOT_FOUND = "Number not on the suppression list"
# Messages one answer lists at most; the rest are counted.
MAX_MESSAGES = 1000


def capped(messages: list[str], *, noun: str) -> list[str]:
    """``messages``, or its first ``MAX_MESSAGES`` and how many more there are."""
    if len(messages) <= MAX_MESSAGES:
        return messages
    more = len(messages) - MAX_MESSAGES
    return [*messages[:MAX_MESSAGES], f"... and {more} more invalid {noun}"]


def normalise_all(numbers: Sequence[str], *, path: str) -> list[str]:
    """Every number in E.164, or one error listing each that is not a valid number."""
    seen: dict[str, str | None] = {}
    normalised: list[str] = []
    errors: list[str] = []
    for index, written in enumerate(numbers):
        if written not in seen:
            seen[written] = canonical_number(written)
        number = seen[written]
        if number is None:
            errors.append(f"{path}.{index} must be a valid E.164 phone number")
        else:
            normalised.append(number)
    if errors:
        raise ValidationFailed(capped(errors, noun="numbers"))
    return normalised


def check_future(expires_at: datetime | None, *, now: datetime, name: str) -> None:
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed([f"{name} must be in the future"])


def add_numbers(session: Session, *, org_id: uuid.UUID, body: AddSuppressionIn) -> dict[str, int]:
    """All or nothing: every number valid, or a 400 naming each bad one and nothing written.

    A number already live on the list counts as already present; its entry may still change
    (``repository.ON_CONFLICT``: its expiry extended, an opt-out taking it over)."""
    now = utcnow()
    check_future(body.expires_at, now=now, name="expiresAt")
    numbers = normalise_all(body.numbers, path="numbers")
    entries = NewEntries(
        org_id=org_id,
        reason=str(body.reason),
        source=body.source,
        expires_at=body.expires_at,
        now=now,
    )
    # Every send that checked the list before this entry is answered before it is written;
    # every send after it sees it.
    wait_for_sends(session, org_id=org_id)
    distinct, added = repository.add_numbers(session, numbers=numbers, entries=entries)
    return {"added": added, "alreadyPresent": distinct - added}


def suppressed_errors(
    session: Session, *, org_id: uuid.UUID, numbers: Sequence[tuple[str, str]], now: datetime
) -> list[str]:
    """For each (path, number) on the org's live list, a 400's message naming it and why.

    A number is looked up in each form it may be listed under (``lookup_forms``): its
    canonical E.164, and the form it is written in when that is shaped like E.164.
    """
    forms = {number: lookup_forms(number) for _, number in numbers}
    reasons = repository.live_reasons(
        session,
        org_id=org_id,
        numbers=sorted({form for found in forms.values() for form in found}),
        now=now,
    )
    errors = []
    for path, number in numbers:
        listed = next((form for form in forms[number] if form in reasons), None)
        if listed is not None:
            errors.append(f"{path} {number} is on the suppression list ({reasons[listed]})")
    return errors


def entry_to_wire(entry: Suppression, *, now: datetime) -> dict[str, Any]:
    return {
        "number": entry.number,
        "reason": entry.reason,
        "source": entry.source,
        "createdAt": iso(entry.created_at),
        "expiresAt": iso(entry.expires_at),
        "active": entry.expires_at is None or entry.expires_at > now,
    }


def list_entries(
    session: Session, *, org_id: uuid.UUID, query: SuppressionListQuery
) -> dict[str, Any]:
    numbers = None
    if query.number is not None:
        numbers = lookup_forms(query.number)
        if not numbers:
            raise ValidationFailed(["number must be a valid E.164 phone number"])
    entries, total = repository.list_entries(
        session,
        org_id=org_id,
        numbers=numbers,
        reason=str(query.reason) if query.reason else None,
        limit=query.limit,
        offset=(query.page - 1) * query.limit,
    )
    now = utcnow()
    return {
        "results": [entry_to_wire(entry, now=now) for entry in entries],
        "metadata": page_metadata(total=total, limit=query.limit, page=query.page),
    }


def get_entry(session: Session, *, org_id: uuid.UUID, number: str) -> dict[str, Any]:
    """The entry of the path's number, found by ``lookup_forms`` (a string that is no number
    is on no list: a 404 too); its canonical form's when it is listed under both."""
    entries = repository.get_entries(session, org_id=org_id, numbers=lookup_forms(number))
    if not entries:
        raise NotFound(NOT_FOUND)
    return entry_to_wire(entries[0], now=utcnow())


def delete_entry(session: Session, *, org_id: uuid.UUID, number: str) -> dict[str, Any]:
    """Removes the number from the list in every form it is listed under, and answers the
    entry ``get_entry`` would. Removing needs no lock: it only ever lets more calls through."""
    entries = repository.delete_entries(session, org_id=org_id, numbers=lookup_forms(number))
    if not entries:
        raise NotFound(NOT_FOUND)
    return entry_to_wire(entries[0], now=utcnow())
