from __future__ import annotations

import itertools

import pytest

from orchestrator.texts.states import (
    TERMINAL_TEXT_STATUSES,
    TextEvent,
    TextStatus,
    next_text_status,
    wire_status,
)

EXPECTED = {
    (TextStatus.QUEUED, TextEvent.SEND): TextStatus.SENDING,
    (TextStatus.QUEUED, TextEvent.WITHDRAW): TextStatus.FAILED,
    (TextStatus.SENDING, TextEvent.RELEASE): TextStatus.QUEUED,
    (TextStatus.SENDING, TextEvent.ACCEPT): TextStatus.SENT,
    (TextStatus.SENDING, TextEvent.REFUSE): TextStatus.FAILED,
    (TextStatus.SENDING, TextEvent.NOT_FOUND): TextStatus.QUEUED,
    (TextStatus.SENDING, TextEvent.WITHDRAW): TextStatus.FAILED,
}


@pytest.mark.parametrize(("status", "event"), list(itertools.product(TextStatus, TextEvent)))
def test_every_status_and_event(status: TextStatus, event: TextEvent) -> None:
    assert next_text_status(status, event) == EXPECTED.get((status, event))


@pytest.mark.parametrize("status", TERMINAL_TEXT_STATUSES)
def test_an_ended_text_never_moves(status: TextStatus) -> None:
    assert all(next_text_status(status, event) is None for event in TextEvent)


def test_a_text_is_never_sent_again_while_its_create_may_exist() -> None:
    assert next_text_status(TextStatus.SENDING, TextEvent.SEND) is None


def test_the_wire_shows_a_text_being_sent_as_queued() -> None:
    assert [wire_status(s) for s in TextStatus] == ["queued", "queued", "sent", "failed"]
