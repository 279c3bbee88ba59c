"""Session and chat messages applied to our sessions and chats, in the caller's transaction.

``session.created`` and ``session.updated`` carry the whole provider Session: it is folded
into our row (``texts.snapshots``), as a poll's ``GET /session/{id}`` answer is
(``apply_session_snapshot``). ``session.deleted`` completes our session and ``chat.deleted``
records the deletion on our chat: both rows stay, the record of what went through us.
Messages are matched to our rows by the provider's ids (``sessions.provider_session_id``,
``chats.provider_chat_id``). One for a session or chat whose provider id we do not know yet
(it beat our create's answer) is parked and applied when the id is recorded
(``apply_parked_session_messages``, ``apply_parked_chat_messages``).

The keywords customers sent (STOP, START) are written for the whole batch at its end, with
the opt-outs heard in calls (``suppression.text_opt_outs``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.events.text_events import record_text_events
from orchestrator.models import Chat, ChatSession, WebhookOutcome
from orchestrator.suppression.text_opt_outs import TextKeyword, record_text_keywords
from orchestrator.texts.locking import lock_chats, lock_sessions
from orchestrator.texts.snapshots import (
    SnapshotApplied,
    absorb_chat,
    absorb_session,
    complete_session,
)
from orchestrator.webhooks import repository
from orchestrator.webhooks.messages import (
    CHAT_TYPES,
    SESSION_TYPES,
    counted_type,
    message_object,
    unwrap,
)
from orchestrator.webhooks.repository import EventOutcome, StoredEvent
from orchestrator.webhooks.storing import count_events, observe_apply_lag

__all__ = [
    "TextBatch",
    "apply_parked_chat_messages",
    "apply_parked_session_messages",
    "apply_session_snapshot",
]


def apply_session_snapshot(
    session: Session, *, chat_session: ChatSession, snapshot: dict[str, Any], now: datetime
) -> SnapshotApplied:
    """Fold one provider Session object into ``chat_session`` (locked by the caller), and
    write the customer's opt-out or opt-in it holds, in the caller's transaction."""
    applied = absorb_session(chat_session, snapshot=snapshot, now=now)
    session.flush()
    if applied.keyword is not None:
        record_text_keywords(session, keywords=[applied.keyword], now=now)
    if applied.first_reply:
        record_text_events(session, replied_sessions=[chat_session], now=now)
    return applied


class TextBatch:
    """The session and chat messages of one batch: their rows locked up front (sessions,
    their parked messages, then chats and theirs, each in id order), the keywords written
    once at the end (``finish``)."""

    def __init__(self, session: Session, *, now: datetime) -> None:
        self.session = session
        self.now = now
        self.sessions: dict[str, ChatSession] = {}
        self.chats: dict[str, Chat] = {}
        self.parked: dict[str, list[StoredEvent]] = {}
        self.outcomes: list[EventOutcome] = []
        self.tally: Counter[tuple[str, WebhookOutcome]] = Counter()
        self.keywords: list[TextKeyword] = []
        # Sessions whose customer's first reply this batch found.
        self.replied: set[uuid.UUID] = set()
        # The same sessions' rows: their campaign contacts' ``contact.sms-replied`` events.
        self.replied_rows: list[ChatSession] = []

    def lock_rows(self, events: Sequence[StoredEvent]) -> None:
        session_ids = _ids(events, SESSION_TYPES)
        for found in lock_sessions(self.session, provider_session_ids=session_ids):
            assert found.provider_session_id is not None
            self.sessions[found.provider_session_id] = found
        self.lock_parked(list(self.sessions), SESSION_TYPES)
        for chat in lock_chats(self.session, provider_chat_ids=_ids(events, CHAT_TYPES)):
            assert chat.provider_chat_id is not None
            self.chats[chat.provider_chat_id] = chat
        self.lock_parked(list(self.chats), CHAT_TYPES)

    def lock_parked(self, provider_ids: Sequence[str], message_types: Sequence[str]) -> None:
        for parked in repository.parked_events_for_update(
            self.session, provider_call_ids=provider_ids, message_types=message_types
        ):
            assert parked.provider_call_id is not None
            self.parked.setdefault(parked.provider_call_id, []).append(parked)

    def apply(self, event: StoredEvent) -> None:
        row = self._row_for(event)
        if row is None:
            outcome = (
                WebhookOutcome.PARKED if event.provider_call_id else WebhookOutcome.UNKNOWN_CALL
            )
            self._record(EventOutcome(event.id, outcome), event.message_type)
            return
        self.apply_parked(event.provider_call_id or "", row)
        self._apply_to(event, row)

    def _row_for(self, event: StoredEvent) -> ChatSession | Chat | None:
        if event.provider_call_id is None:
            return None
        rows = self.sessions if event.message_type in SESSION_TYPES else self.chats
        return rows.get(event.provider_call_id)

    def apply_parked(self, provider_id: str, row: ChatSession | Chat) -> None:
        """Messages that arrived before we knew the row's provider id, applied first."""
        for parked in self.parked.pop(provider_id, []):
            self._apply_to(parked, row)

    def _apply_to(self, event: StoredEvent, row: ChatSession | Chat) -> None:
        message, _ = unwrap(event.payload)
        if isinstance(row, ChatSession):
            changed = self._apply_to_session(event.message_type, message, row)
        else:
            chat_obj = message_object(message, "chat")
            deleted = event.message_type == "chat.deleted"
            changed = absorb_chat(row, chat_obj=chat_obj, deleted=deleted, now=self.now)
        outcome = WebhookOutcome.APPLIED if changed else WebhookOutcome.NO_CHANGE
        self._record(EventOutcome(event.id, outcome, None, row.org_id), event.message_type)

    def _apply_to_session(
        self, message_type: str, message: dict[str, Any], row: ChatSession
    ) -> bool:
        snapshot = message_object(message, "session")
        applied = absorb_session(row, snapshot=snapshot, now=self.now)
        if applied.keyword is not None:
            self.keywords.append(applied.keyword)
        if applied.first_reply and row.id not in self.replied:
            self.replied.add(row.id)
            self.replied_rows.append(row)
        if message_type == "session.deleted":
            return complete_session(row) or applied.changed
        return applied.changed

    def _record(self, outcome: EventOutcome, message_type: str) -> None:
        self.outcomes.append(outcome)
        self.tally[counted_type(message_type), outcome.outcome] += 1

    def finish(self) -> None:
        """The rows written, then the customers' keywords (the caller writes the outcomes;
        the call applier writes the keywords itself, with the opt-outs heard in calls)."""
        self.session.flush()
        record_text_keywords(self.session, keywords=self.keywords, now=self.now)
        record_text_events(self.session, replied_sessions=self.replied_rows, now=self.now)


def _ids(events: Sequence[StoredEvent], message_types: Sequence[str]) -> set[str]:
    return {
        e.provider_call_id
        for e in events
        if e.message_type in message_types and e.provider_call_id is not None
    }


def _apply_parked(
    session: Session, *, provider_id: str | None, row: ChatSession | Chat, types: Sequence[str]
) -> frozenset[uuid.UUID]:
    if provider_id is None:
        return frozenset()
    batch = TextBatch(session, now=utcnow())
    batch.lock_parked([provider_id], types)
    if not batch.parked:
        return frozenset()
    batch.apply_parked(provider_id, row)
    batch.finish()
    lags = repository.record_outcomes(session, batch.outcomes, now=batch.now)
    count_events(batch.tally)
    observe_apply_lag(lags)
    return frozenset(batch.replied)


def apply_parked_session_messages(
    session: Session, *, chat_session: ChatSession
) -> frozenset[uuid.UUID]:
    """Messages that arrived before we knew ``chat_session``'s provider id (it is locked by
    the caller, which has just recorded the id), applied now. Answers ``{its id}`` when they
    held the customer's first reply, else nothing."""
    return _apply_parked(
        session,
        provider_id=chat_session.provider_session_id,
        row=chat_session,
        types=SESSION_TYPES,
    )


def apply_parked_chat_messages(session: Session, *, chat: Chat) -> None:
    """Messages that arrived before we knew ``chat``'s provider id (it is locked by the
    caller, which has just recorded the id), applied now."""
    _apply_parked(session, provider_id=chat.provider_chat_id, row=chat, types=CHAT_TYPES)
