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
from orchestrator.suppression.numbers import normalise_number
from orchestrator.suppression.repository import NewEntries
from orchestrator.suppression.schemas import AddSuppressionIn, SuppressionListQuery
from orchestrator.wire import E164_SHAPE, iso

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
            seen[written] = normalise_number(written)
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
    """All or nothing: every number valid, or a 400 naming each bad one and nothing written."""
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

    A number written otherwise than in E.164 (allowed when the E.164 check is off) is
    looked up as the list keeps it too.
    """
    listed_as = {
        number: number if E164_SHAPE.match(number) else normalise_number(number) or number
        for _, number in numbers
    }
    reasons = repository.live_reasons(
        session, org_id=org_id, numbers=sorted(set(listed_as.values())), now=now
    )
    return [
        f"{path} {number} is on the suppression list ({reasons[listed_as[number]]})"
        for path, number in numbers
        if listed_as[number] in reasons
    ]


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
    number = None
    if query.number is not None:
        number = normalise_number(query.number)
        if number is None:
            raise ValidationFailed(["number must be a valid E.164 phone number"])
    entries, total = repository.list_entries(
        session,
        org_id=org_id,
        number=number,
        reason=str(query.reason) if query.reason else None,
        limit=query.limit,
        offset=(query.page - 1) * query.limit,
    )
    now = utcnow()
    return {
        "results": [entry_to_wire(entry, now=now) for entry in entries],
        "metadata": page_metadata(total=total, limit=query.limit, page=query.page),
    }


def _number_or_not_found(written: str) -> str:
    """The path's number in E.164; one that is no number is on no list, so a 404 too."""
    number = normalise_number(written)
    if number is None:
        raise NotFound(NOT_FOUND)
    return number


def get_entry(session: Session, *, org_id: uuid.UUID, number: str) -> dict[str, Any]:
    entry = repository.get_entry(session, org_id=org_id, number=_number_or_not_found(number))
    if entry is None:
        raise NotFound(NOT_FOUND)
    return entry_to_wire(entry, now=utcnow())


def delete_entry(session: Session, *, org_id: uuid.UUID, number: str) -> dict[str, Any]:
    """Removing an entry needs no lock: it only ever lets more calls through."""
    entry = repository.delete_entry(session, org_id=org_id, number=_number_or_not_found(number))
    if entry is None:
        raise NotFound(NOT_FOUND)
    return entry_to_wire(entry, now=utcnow())
