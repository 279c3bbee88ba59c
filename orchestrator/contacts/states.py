"""The contact state machine as one pure function.

A contact waits (``pending``), is dialed (``dispatched``: a call of it is claimed or under
way), and ends ``completed``, ``failed`` or ``skipped``. Two moves lead back to ``pending``:
a claim withdrawn before its call was sent (the attempt never happened), and a retry.
A campaign with pre-dial checks asks the user's server about a pending contact before it
may be claimed: a ``false`` verdict skips it, a check that fails ends it ``predial-failed``.
"""

from __future__ import annotations

from enum import StrEnum

from orchestrator.calls.ended_reasons import completes_contact
from orchestrator.models.enums import ContactStatus

__all__ = [
    "OPEN_CONTACT_STATUSES",
    "ContactEvent",
    "ContactStatus",
    "next_contact_status",
    "unsent_attempt_event",
]

# A campaign is done when none of its contacts is in one of these.
OPEN_CONTACT_STATUSES = (ContactStatus.PENDING, ContactStatus.DISPATCHED)


class ContactEvent(StrEnum):
    # The scheduler reserved capacity and made a call for it.
    CLAIM = "claim"
    # That call was withdrawn before it was sent (the campaign paused).
    UNCLAIM = "unclaim"
    # Its call ended and the retry plan wants another attempt, later.
    RETRY = "retry"
    # Its attempts are over: the last one reached the customer (or their voicemail).
    COMPLETE = "complete"
    # Its attempts are over: the last one did not reach the customer.
    FAIL = "fail"
    # Its only attempt was never sent.
    SKIP = "skip"
    # Closed while waiting (the campaign stopped, its window closed): never dialed...
    CLOSE_UNDIALED = "close-undialed"
    # ... or waiting for a retry: it ends as its last attempt did.
    CLOSE_COMPLETED = "close-completed"
    CLOSE_FAILED = "close-failed"
    # The compliance gate refused it before it was ever dialed: its number is suppressed, or
    # the frequency caps allow no attempt before its window ends. (One waiting for a retry
    # ends as its last attempt did: ``CLOSE_COMPLETED``, ``CLOSE_FAILED``.)
    GATE_SKIP = "gate-skip"
    # Its pre-dial check answered ``{"eligible": false}``: never dialed for this attempt.
    PREDIAL_REFUSE = "predial-refuse"
    # Its pre-dial check failed (an error, no answer, no verdict), and nothing retries it.
    PREDIAL_FAIL = "predial-fail"


_MOVES: dict[tuple[ContactStatus, ContactEvent], ContactStatus] = {
    (ContactStatus.PENDING, ContactEvent.CLAIM): ContactStatus.DISPATCHED,
    (ContactStatus.PENDING, ContactEvent.CLOSE_UNDIALED): ContactStatus.SKIPPED,
    (ContactStatus.PENDING, ContactEvent.CLOSE_COMPLETED): ContactStatus.COMPLETED,
    (ContactStatus.PENDING, ContactEvent.CLOSE_FAILED): ContactStatus.FAILED,
    (ContactStatus.PENDING, ContactEvent.GATE_SKIP): ContactStatus.SKIPPED,
    (ContactStatus.PENDING, ContactEvent.PREDIAL_REFUSE): ContactStatus.SKIPPED,
    (ContactStatus.PENDING, ContactEvent.PREDIAL_FAIL): ContactStatus.PREDIAL_FAILED,
    (ContactStatus.DISPATCHED, ContactEvent.UNCLAIM): ContactStatus.PENDING,
    (ContactStatus.DISPATCHED, ContactEvent.RETRY): ContactStatus.PENDING,
    (ContactStatus.DISPATCHED, ContactEvent.COMPLETE): ContactStatus.COMPLETED,
    (ContactStatus.DISPATCHED, ContactEvent.FAIL): ContactStatus.FAILED,
    (ContactStatus.DISPATCHED, ContactEvent.SKIP): ContactStatus.SKIPPED,
}


def next_contact_status(status: ContactStatus, event: ContactEvent) -> ContactStatus | None:
    """Where ``event`` takes a contact in ``status``, or None when it does not apply to it.

    A contact that has moved on meanwhile (its call's end arriving after the contact was
    settled) is left as it is; an ended contact never moves again.
    """
    return _MOVES.get((status, event))


def unsent_attempt_event(*, attempts: int, last_ended_reason: str | None) -> ContactEvent:
    """A contact whose latest attempt never left ends as its last real attempt did.

    ``attempts`` counts the attempt that was not sent; without an earlier one that ended,
    the contact was never dialed at all.
    """
    if attempts <= 1 or last_ended_reason is None:
        return ContactEvent.SKIP
    if completes_contact(last_ended_reason):
        return ContactEvent.COMPLETE
    return ContactEvent.FAIL
