"""The simulator's chats and sessions, and the counters of its texts, journaled like its calls.

``TextStore`` is the ground truth of texts: every chat and session that really exists (a chat
whose create answer was a 5xx or never arrived included), with the messages the customer and
the assistant really exchanged, whatever webhooks were lost. With a state dir every change is
one journal line (see ``journal``), written before it is applied, and every change is made by
applying its line, so a replayed store is the one that was written:

==============  ======================  ==========================================================
op              other keys              meaning
==============  ======================  ==========================================================
textRequest     key                     a valid ``POST /chat`` for that fault key (``chats``)
textFault       name                    a create fault fired for a chat
textRefused                             a text the simulator would not send (400)
textRate        phone, perSecond        a phone number's texts-per-second peak rose
session         session                 a session was created (a record: ``sessions``), counted
sessionState    session                 a session as it now is (messages, status, name,
                                        expiration, cost, updatedAt), after any change
sessionDelete   id                      the session was deleted
chat            chat, reply             a chat was created, counted, with the kind of reply its
                                        customer gives (null for a plain chat)
chatDelete      id                      the chat was deleted
textCounters    nextSeq, counters       every text counter (absolute): compaction's first text
                                        line, followed by one ``sessionRecord`` per session and
sessionRecord,  session / chat          one ``chatRecord`` per chat as they were at compaction;
chatRecord                              nothing counted
==============  ======================  ==========================================================

A reply that was still to come when the simulator stopped is never played after a restart:
the session keeps the messages it had, and its customer stays silent.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestrator.simulator.journal import Journal, epoch_ms
from orchestrator.simulator.records import to_ms
from orchestrator.simulator.sessions import (
    DEFAULT_EXPIRATION_SECONDS,
    ChatRecord,
    SessionRecord,
)

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class TextCounters:
    create_requests: int = 0
    chats_created: int = 0
    sessions_created: int = 0
    refused: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    replies: Counter[str] = field(default_factory=Counter)
    max_rate_by_phone: dict[str, int] = field(default_factory=dict)
    # Valid ``POST /chat`` per fault key: the request index fault decisions use.
    requests_by_key: Counter[str] = field(default_factory=Counter)

    def to_journal(self) -> dict[str, Any]:
        return {
            "createRequests": self.create_requests,
            "chatsCreated": self.chats_created,
            "sessionsCreated": self.sessions_created,
            "refused": self.refused,
            "faults": dict(self.faults),
            "replies": dict(self.replies),
            "maxTextsPerSecondByPhoneNumber": dict(self.max_rate_by_phone),
            "requestsByKey": dict(self.requests_by_key),
        }

    @classmethod
    def from_journal(cls, data: dict[str, Any]) -> TextCounters:
        return cls(
            create_requests=int(data["createRequests"]),
            chats_created=int(data["chatsCreated"]),
            sessions_created=int(data["sessionsCreated"]),
            refused=int(data["refused"]),
            faults=Counter(data["faults"]),
            replies=Counter(data["replies"]),
            max_rate_by_phone=dict(data["maxTextsPerSecondByPhoneNumber"]),
            requests_by_key=Counter(data["requestsByKey"]),
        )


class TextStore:
    """Chats, sessions and their counters; callers hold the text engine's lock. ``journal`` is
    where changes are written (None: nowhere, as while replaying)."""

    def __init__(self, org_id: str, journal: Journal | None = None) -> None:
        self.org_id = org_id
        self.journal = journal
        self.chats: dict[str, ChatRecord] = {}
        self.sessions: dict[str, SessionRecord] = {}
        self.counters = TextCounters()
        self._seq = 0

    def _change(self, op: str, at: int | None = None, **keys: Any) -> None:
        line = {"op": op, "at": epoch_ms() if at is None else at, **keys}
        if self.journal is not None:
            self.journal.append(line)
        _REPLAY[op](self, line)

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def count_request(self, key: str) -> int:
        """Count a valid ``POST /chat`` for ``key``; returns its 1-based index."""
        self._change("textRequest", key=key)
        return self.counters.requests_by_key[key]

    def count_fault(self, name: str) -> None:
        self._change("textFault", name=name)

    def count_refused(self) -> None:
        self._change("textRefused")

    def raise_rate(self, phone: str, per_second: int) -> None:
        if per_second > self.counters.max_rate_by_phone.get(phone, 0):
            self._change("textRate", phone=phone, perSecond=per_second)

    def new_session(self, request: dict[str, Any], at: datetime) -> SessionRecord:
        session = SessionRecord(
            id=str(uuid.uuid4()),
            seq=self.next_seq(),
            org_id=self.org_id,
            request=request,
            created_at=at,
            updated_at=at,
            messages=list(request.get("messages") or []),
            status=str(request.get("status") or "active"),
            name=request.get("name"),
            expiration_seconds=int(request.get("expirationSeconds") or DEFAULT_EXPIRATION_SECONDS),
        )
        self._write("session", to_ms(at), session=session.to_journal())
        self._add_session(session)
        return session

    def save_session(self, session: SessionRecord) -> None:
        """Journal the session as it now is, after a change to it."""
        self._write("sessionState", to_ms(session.updated_at), session=session.to_journal())

    def delete_session(self, session_id: str) -> SessionRecord:
        self._write("sessionDelete", id=session_id)
        return self.sessions.pop(session_id)

    def new_chat(
        self,
        request: dict[str, Any],
        *,
        at: datetime,
        context: list[dict[str, Any]],
        output: list[dict[str, Any]],
        session: SessionRecord | None,
        cost: float,
        reply: str | None,
    ) -> ChatRecord:
        """A chat, counted, with the kind of reply its customer gives (None: no customer)."""
        chat = ChatRecord(
            id=str(uuid.uuid4()),
            seq=self.next_seq(),
            org_id=self.org_id,
            request=request,
            created_at=at,
            messages=context,
            output=output,
            session_id=None if session is None else session.id,
            cost=cost,
        )
        self._write("chat", to_ms(at), chat=chat.to_journal(), reply=reply)
        self._add_chat(chat, reply)
        return chat

    def delete_chat(self, chat_id: str) -> ChatRecord:
        self._write("chatDelete", id=chat_id)
        return self.chats.pop(chat_id)

    def _write(self, op: str, at: int | None = None, **keys: Any) -> None:
        """Journal a change its method applies itself (it holds the record already)."""
        if self.journal is not None:
            self.journal.append({"op": op, "at": epoch_ms() if at is None else at, **keys})

    def _add_session(self, session: SessionRecord, *, counted: bool = True) -> None:
        self.sessions[session.id] = session
        self._seq = max(self._seq, session.seq)
        if counted:
            self.counters.sessions_created += 1

    def _add_chat(self, chat: ChatRecord, reply: str | None, *, counted: bool = True) -> None:
        self.chats[chat.id] = chat
        self._seq = max(self._seq, chat.seq)
        if counted:
            self.counters.chats_created += 1
            if reply is not None:
                self.counters.replies[reply] += 1

    def apply(self, line: dict[str, Any]) -> bool:
        """Replay one journal line; False when it is not about texts."""
        replay = _REPLAY.get(str(line.get("op")))
        if replay is None:
            return False
        replay(self, line)
        return True

    def snapshot(self, at: int) -> Iterator[dict[str, Any]]:
        """The text lines of a compacted journal."""
        counters = self.counters.to_journal()
        yield {"op": "textCounters", "at": at, "nextSeq": self._seq, "counters": counters}
        for session in self.sessions.values():
            yield {"op": "sessionRecord", "at": at, "session": session.to_journal()}
        for chat in self.chats.values():
            yield {"op": "chatRecord", "at": at, "chat": chat.to_journal()}

    def stats(self) -> dict[str, Any]:
        counters = self.counters
        return {
            "createRequests": counters.create_requests,
            "chatsCreated": counters.chats_created,
            "sessionsCreated": counters.sessions_created,
            "refused": counters.refused,
            "faults": dict(counters.faults),
            "replies": dict(counters.replies),
            "maxTextsPerSecondByPhoneNumber": dict(counters.max_rate_by_phone),
        }


def _replay_request(store: TextStore, line: dict[str, Any]) -> None:
    store.counters.create_requests += 1
    store.counters.requests_by_key[str(line["key"])] += 1


def _replay_rate(store: TextStore, line: dict[str, Any]) -> None:
    rates = store.counters.max_rate_by_phone
    rates[str(line["phone"])] = max(rates.get(str(line["phone"]), 0), int(line["perSecond"]))


def _replay_state(store: TextStore, line: dict[str, Any]) -> None:
    session = SessionRecord.from_journal(line["session"])
    if session.id in store.sessions:  # else deleted since
        store.sessions[session.id] = session


def _replay_counters(store: TextStore, line: dict[str, Any]) -> None:
    store.counters = TextCounters.from_journal(line["counters"])
    store._seq = max(store._seq, int(line["nextSeq"]))


def _replay_chat(store: TextStore, line: dict[str, Any], *, counted: bool) -> None:
    reply = line.get("reply")
    chat = ChatRecord.from_journal(line["chat"])
    store._add_chat(chat, None if reply is None else str(reply), counted=counted)


def _count_fault(store: TextStore, line: dict[str, Any]) -> None:
    store.counters.faults[str(line["name"])] += 1


def _count_refused(store: TextStore, _: dict[str, Any]) -> None:
    store.counters.refused += 1


_REPLAY: dict[str, Callable[[TextStore, dict[str, Any]], object]] = {
    "textRequest": _replay_request,
    "textFault": _count_fault,
    "textRefused": _count_refused,
    "textRate": _replay_rate,
    "session": lambda store, line: store._add_session(SessionRecord.from_journal(line["session"])),
    "sessionRecord": lambda store, line: store._add_session(
        SessionRecord.from_journal(line["session"]), counted=False
    ),
    "sessionState": _replay_state,
    "sessionDelete": lambda store, line: store.sessions.pop(str(line["id"]), None),
    "chat": lambda store, line: _replay_chat(store, line, counted=True),
    "chatRecord": lambda store, line: _replay_chat(store, line, counted=False),
    "chatDelete": lambda store, line: store.chats.pop(str(line["id"]), None),
    "textCounters": _replay_counters,
}
