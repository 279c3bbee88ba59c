"""The chats and sessions the simulator knows, as Vapi's ``Chat`` and ``Session`` show them.

``TextStore`` is their ground truth: every chat and session that really exists (a chat whose
create answer was a 5xx or never arrived included), with the messages the customer and the
assistant really exchanged, whatever webhooks were lost. It lives in memory only: unlike calls
it is not journaled, so a restarted simulator (``--state-dir``) knows no chat or session of the
previous run (texts are short-lived and what a test checks is the run it made).

A session is ``completed`` once its status was set so or ``expirationSeconds`` passed since it
was last updated; a text sent into a completed session reopens it.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from orchestrator.simulator.records import iso, now_ms

DEFAULT_EXPIRATION_SECONDS = 86_400
# What one outbound text costs, in USD.
TEXT_COST = 0.0079
# Request fields a Chat echoes back verbatim.
CHAT_ECHOED = (
    "assistantId",
    "assistant",
    "assistantOverrides",
    "squadId",
    "squad",
    "name",
    "sessionId",
    "previousChatId",
    "input",
    "stream",
)
SESSION_ECHOED = (
    "name",
    "assistantId",
    "assistant",
    "assistantOverrides",
    "squadId",
    "squad",
    "customer",
    "customerId",
    "phoneNumberId",
)


def server_of(request: dict[str, Any]) -> dict[str, Any] | None:
    """Where webhooks go: the overrides' server, else an inline assistant's."""
    for holder in (request.get("assistantOverrides"), request.get("assistant")):
        if isinstance(holder, dict) and isinstance(holder.get("server"), dict):
            server: dict[str, Any] = holder["server"]
            if server.get("url"):
                return server
    return None


@dataclass(slots=True)
class SessionRecord:
    id: str
    seq: int
    org_id: str
    request: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    messages: list[dict[str, Any]] = field(default_factory=list)
    status: str = "active"
    name: str | None = None
    expiration_seconds: int = DEFAULT_EXPIRATION_SECONDS
    cost: float = 0.0

    @property
    def customer_number(self) -> str | None:
        customer = self.request.get("customer")
        number = customer.get("number") if isinstance(customer, dict) else None
        return number if isinstance(number, str) else None

    @property
    def phone_number_id(self) -> str | None:
        phone = self.request.get("phoneNumberId")
        return phone if isinstance(phone, str) else None

    @property
    def server(self) -> dict[str, Any] | None:
        return server_of(self.request)

    def current_status(self, now: datetime) -> str:
        expires = self.updated_at + timedelta(seconds=self.expiration_seconds)
        return "completed" if self.status == "completed" or now >= expires else "active"

    def touch(self, at: datetime) -> None:
        self.updated_at = max(at, self.updated_at)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {k: self.request[k] for k in SESSION_ECHOED if k in self.request}
        body.update(
            id=self.id,
            orgId=self.org_id,
            createdAt=iso(self.created_at),
            updatedAt=iso(self.updated_at),
            status=self.current_status(now_ms()),
            expirationSeconds=self.expiration_seconds,
            messages=list(self.messages),
            cost=round(self.cost, 6),
        )
        if self.name is not None:
            body["name"] = self.name
        return body


@dataclass(slots=True)
class ChatRecord:
    id: str
    seq: int
    org_id: str
    request: dict[str, Any]
    created_at: datetime
    messages: list[dict[str, Any]]
    output: list[dict[str, Any]]
    session_id: str | None = None
    cost: float = 0.0

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {k: self.request[k] for k in CHAT_ECHOED if k in self.request}
        body.update(
            id=self.id,
            orgId=self.org_id,
            messages=self.messages,
            output=self.output,
            cost=self.cost,
            costs=[],
            createdAt=iso(self.created_at),
            updatedAt=iso(self.created_at),
        )
        if self.session_id is not None:
            body["sessionId"] = self.session_id
        return body


@dataclass(slots=True)
class TextCounters:
    create_requests: int = 0
    chats_created: int = 0
    sessions_created: int = 0
    refused: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    replies: Counter[str] = field(default_factory=Counter)
    max_rate_by_phone: dict[str, int] = field(default_factory=dict)


class TextStore:
    """Chats, sessions and their counters; callers hold the simulator's state lock."""

    def __init__(self, org_id: str) -> None:
        self.org_id = org_id
        self.chats: dict[str, ChatRecord] = {}
        self.sessions: dict[str, SessionRecord] = {}
        self.counters = TextCounters()
        self.requests_by_key: Counter[str] = Counter()
        self._seq = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

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
        self.sessions[session.id] = session
        self.counters.sessions_created += 1
        return session

    def new_chat(
        self,
        request: dict[str, Any],
        *,
        at: datetime,
        context: list[dict[str, Any]],
        output: list[dict[str, Any]],
        session: SessionRecord | None,
        cost: float,
    ) -> ChatRecord:
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
        self.chats[chat.id] = chat
        self.counters.chats_created += 1
        return chat

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
