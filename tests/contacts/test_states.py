"""The contact state machine: every status against every event."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.contacts.states import (
    OPEN_CONTACT_STATUSES,
    ContactEvent,
    next_contact_status,
    unsent_attempt_event,
)
from orchestrator.models import ContactStatus

S = ContactStatus
E = ContactEvent

# Every allowed move; any (status, event) pair missing here changes nothing.
ALLOWED: dict[tuple[ContactStatus, ContactEvent], ContactStatus] = {
    (S.PENDING, E.CLAIM): S.DISPATCHED,
    (S.PENDING, E.CLOSE_UNDIALED): S.SKIPPED,
    (S.PENDING, E.CLOSE_COMPLETED): S.COMPLETED,
    (S.PENDING, E.CLOSE_FAILED): S.FAILED,
    # The compliance gate refused it before it was ever dialed (suppressed, or capped past
    # its window's end).
    (S.PENDING, E.GATE_SKIP): S.SKIPPED,
    # A pre-dial check's verdict, before any claim.
    (S.PENDING, E.PREDIAL_REFUSE): S.SKIPPED,
    (S.PENDING, E.PREDIAL_FAIL): S.PREDIAL_FAILED,
    # The two moves back: a claim withdrawn before its call left, and a retry.
    (S.DISPATCHED, E.UNCLAIM): S.PENDING,
    (S.DISPATCHED, E.RETRY): S.PENDING,
    (S.DISPATCHED, E.COMPLETE): S.COMPLETED,
    (S.DISPATCHED, E.FAIL): S.FAILED,
    (S.DISPATCHED, E.SKIP): S.SKIPPED,
}

PAIRS = list(itertools.product(ContactStatus, ContactEvent))
REFUSED = [pair for pair in PAIRS if pair not in ALLOWED]
TERMINAL = [S.COMPLETED, S.FAILED, S.SKIPPED, S.PREDIAL_FAILED]


def test_the_table_covers_every_status_and_event() -> None:
    assert len(PAIRS) == 72
    assert len(ALLOWED) + len(REFUSED) == len(PAIRS)


@pytest.mark.parametrize(("status", "event"), list(ALLOWED), ids=str)
def test_allowed_move(status: ContactStatus, event: ContactEvent) -> None:
    assert next_contact_status(status, event) == ALLOWED[(status, event)]


@pytest.mark.parametrize(("status", "event"), REFUSED, ids=str)
def test_refused_move_changes_nothing(status: ContactStatus, event: ContactEvent) -> None:
    assert next_contact_status(status, event) is None


@pytest.mark.parametrize("status", TERMINAL)
def test_an_ended_contact_never_moves(status: ContactStatus) -> None:
    assert all(next_contact_status(status, event) is None for event in ContactEvent)


def test_open_statuses_are_those_that_still_move() -> None:
    moving = {status for status, _ in ALLOWED}
    assert set(OPEN_CONTACT_STATUSES) == moving == set(ContactStatus) - set(TERMINAL)


def test_only_pending_is_ever_reached_again() -> None:
    reached_back = {(s, e) for (s, e), t in ALLOWED.items() if t == S.PENDING}
    assert reached_back == {(S.DISPATCHED, E.UNCLAIM), (S.DISPATCHED, E.RETRY)}


@pytest.mark.parametrize(
    ("attempts", "last_ended_reason", "event"),
    [
        (1, None, E.SKIP),
        (1, "customer-ended-call", E.SKIP),
        (2, None, E.SKIP),
        (2, "customer-ended-call", E.COMPLETE),
        (3, "voicemail", E.COMPLETE),
        (2, "customer-did-not-answer", E.FAIL),
        (2, "provider-call-not-found", E.FAIL),
    ],
)
def test_an_unsent_attempt_ends_the_contact_as_its_last_real_one(
    attempts: int, last_ended_reason: str | None, event: ContactEvent
) -> None:
    assert unsent_attempt_event(attempts=attempts, last_ended_reason=last_ended_reason) == event
