"""Recording decisions, in the caller's transaction: what the deciding code calls.

* ``record_decisions``: any decisions, one statement.
* ``record_deferrals`` / ``record_each_deferral``: due contacts held back. Recorded only when
  the contact's reason to wait (``Contact.deferral``) changes, and that reason set, in one
  statement: a contact held back every tick for one reason adds one row. Claiming a contact
  clears its reason, so the same reason after a claim is a new decision.
* ``suppression_decision``: the gate found the number on the org's suppression list.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.decisions import repository
from orchestrator.decisions.decision import Decision, DecisionKind, Deferral, GateStage
from orchestrator.models import Call, Suppression
from orchestrator.wire import iso

__all__ = [
    "Decision",
    "Deferral",
    "claim_decisions",
    "dial_decisions",
    "record_decisions",
    "record_deferrals",
    "record_each_deferral",
    "suppression_decision",
]


def record_decisions(
    session: Session, decisions: Iterable[Decision], *, now: datetime | None = None
) -> int:
    """Write ``decisions`` in one statement, in their order; how many were written."""
    return repository.insert_decisions(session, list(decisions), now=now or utcnow())


def record_deferrals(
    session: Session,
    *,
    contact_ids: Collection[uuid.UUID],
    reason: str,
    retry_at: datetime | None,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> set[uuid.UUID]:
    """``contact_ids`` wait for ``reason`` until ``retry_at`` (None: not known); recorded for
    those not already waiting for it, as :func:`record_each_deferral`. The contacts recorded."""
    return record_each_deferral(
        session,
        (Deferral(contact_id, reason, retry_at, detail) for contact_id in contact_ids),
        now=now,
    )


def record_each_deferral(
    session: Session, deferrals: Iterable[Deferral], *, now: datetime
) -> set[uuid.UUID]:
    """Deferrals with reasons and times of their own (one per contact), in one statement; the
    contacts recorded, whose ``deferral`` is now their reason.

    Left out, their ``deferral`` untouched: contacts already waiting for that reason, those
    no longer pending, and those another transaction holds (passed over, not waited for). A
    caller that sets ``deferral`` itself afterwards should do so only for the ids returned,
    or a held contact's wait is never recorded.
    """
    unique = list({deferral.contact_id: deferral for deferral in deferrals}.values())
    if not unique:
        return set()
    return repository.defer(session, repository.deferrals_source(unique), now=now)


class _AttemptOfContact(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def contact_id(self) -> uuid.UUID | None: ...


def claim_decisions(calls: Iterable[_AttemptOfContact]) -> list[Decision]:
    """``claimed`` for the contacts of campaign calls just claimed."""
    return [
        Decision(call.contact_id, DecisionKind.CLAIMED, call_id=call.id)
        for call in calls
        if call.contact_id is not None
    ]


def dial_decisions(calls: Iterable[Call], *, reason: str | None = None) -> list[Decision]:
    """``dialed`` for campaign calls whose create was sent, at their dial time: taken by the
    provider, or refused with ``reason``. Recorded once, where the provider's id is first
    learnt (its answer, a webhook that beat it, the lookup of a lost answer) or the refusal."""
    return [
        Decision(
            call.contact_id, DecisionKind.DIALED, reason=reason, call_id=call.id, at=call.dialed_at
        )
        for call in calls
        if call.contact_id is not None
    ]


def suppression_decision(
    contact_id: uuid.UUID,
    *,
    stage: GateStage,
    number: str,
    entry: Suppression | None = None,
    call_id: uuid.UUID | None = None,
) -> Decision:
    """The gate found ``number`` on the org's list at ``stage``; ``entry`` is the list's row,
    when the gate read it (its reason, source and times go in the detail)."""
    detail: dict[str, Any] = {"number": number}
    if entry is not None:
        detail["entry"] = {
            "reason": entry.reason,
            "source": entry.source,
            "createdAt": iso(entry.created_at),
            "expiresAt": iso(entry.expires_at),
        }
    return Decision(
        contact_id, DecisionKind.SUPPRESSED, reason=stage.value, call_id=call_id, detail=detail
    )
