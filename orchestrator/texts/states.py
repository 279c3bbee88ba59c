"""An outbound text's delivery as one pure function.

A text waits (``queued``), is being sent (``sending``: its ``POST /chat`` left, or its answer
was lost and it waits to be looked up), and ends ``sent`` or ``failed``. Two moves lead back
to ``queued``: a create the provider surely did not make (a 429, no connection), and a lost
answer whose lookup found nothing. A text is never sent again while its create may exist.
"""

from __future__ import annotations

from enum import StrEnum

from orchestrator.models.enums import TextStatus

__all__ = ["TERMINAL_TEXT_STATUSES", "TextEvent", "TextStatus", "next_text_status", "wire_status"]

TERMINAL_TEXT_STATUSES = (TextStatus.SENT, TextStatus.FAILED)


class TextEvent(StrEnum):
    # A worker won the compare-and-set: its create request is about to leave.
    SEND = "send"
    # The provider surely did not make it (a 429, unreachable): it waits for its turn again.
    RELEASE = "release"
    # The provider accepted it (its answer, or a lookup that found it).
    ACCEPT = "accept"
    # The provider refused it (a 4xx other than 429).
    REFUSE = "refuse"
    # Its answer was lost and the lookup found no such chat: it may be sent again.
    NOT_FOUND = "not-found"
    # The gate refused it before it was sent (the number is suppressed, no allowance left in
    # time), or it was withdrawn (its campaign stopped, the chat was deleted).
    WITHDRAW = "withdraw"


_MOVES: dict[tuple[TextStatus, TextEvent], TextStatus] = {
    (TextStatus.QUEUED, TextEvent.SEND): TextStatus.SENDING,
    (TextStatus.QUEUED, TextEvent.WITHDRAW): TextStatus.FAILED,
    (TextStatus.SENDING, TextEvent.RELEASE): TextStatus.QUEUED,
    (TextStatus.SENDING, TextEvent.ACCEPT): TextStatus.SENT,
    (TextStatus.SENDING, TextEvent.REFUSE): TextStatus.FAILED,
    (TextStatus.SENDING, TextEvent.NOT_FOUND): TextStatus.QUEUED,
    # The gate's check runs after the compare-and-set, just before the create.
    (TextStatus.SENDING, TextEvent.WITHDRAW): TextStatus.FAILED,
}


def next_text_status(status: TextStatus, event: TextEvent) -> TextStatus | None:
    """Where ``event`` takes a text in ``status``, or None when it does not apply to it (a
    text that has moved on meanwhile is left as it is; an ended text never moves again)."""
    return _MOVES.get((status, event))


def wire_status(status: TextStatus) -> str:
    """``delivery.status`` on the wire: a text being sent is still ``queued`` to the user."""
    return "queued" if status in (TextStatus.QUEUED, TextStatus.SENDING) else status.value
