"""The chats and sessions the simulator knows, as Vapi's ``Chat`` and ``Session`` show them.

``text_store.TextStore`` holds them, journaled like calls when there is a state dir; each
record has its journal form (``to_journal`` / ``from_journal``: the JSON form plus what the
API does not show).

A session is ``completed`` once its status was set so or ``expirationSeconds`` passed since it
was last updated; a text sent into a completed session reopens it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from orchestrator.simulator.records import from_ms, iso, now_ms, to_ms

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

    def to_journal(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "orgId": self.org_id,
            "request": self.request,
            "createdAt": to_ms(self.created_at),
            "updatedAt": to_ms(self.updated_at),
            "messages": self.messages,
            "status": self.status,
            "name": self.name,
            "expirationSeconds": self.expiration_seconds,
            "cost": self.cost,
        }

    @classmethod
    def from_journal(cls, data: dict[str, Any]) -> SessionRecord:
        return cls(
            id=str(data["id"]),
            seq=int(data["seq"]),
            org_id=str(data["orgId"]),
            request=dict(data["request"]),
            created_at=from_ms(int(data["createdAt"])),
            updated_at=from_ms(int(data["updatedAt"])),
            messages=list(data["messages"]),
            status=str(data["status"]),
            name=data.get("name"),
            expiration_seconds=int(data["expirationSeconds"]),
            cost=float(data["cost"]),
        )


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

    def to_journal(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "orgId": self.org_id,
            "request": self.request,
            "createdAt": to_ms(self.created_at),
            "messages": self.messages,
            "output": self.output,
            "sessionId": self.session_id,
            "cost": self.cost,
        }

    @classmethod
    def from_journal(cls, data: dict[str, Any]) -> ChatRecord:
        session_id = data.get("sessionId")
        return cls(
            id=str(data["id"]),
            seq=int(data["seq"]),
            org_id=str(data["orgId"]),
            request=dict(data["request"]),
            created_at=from_ms(int(data["createdAt"])),
            messages=list(data["messages"]),
            output=list(data["output"]),
            session_id=None if session_id is None else str(session_id),
            cost=float(data["cost"]),
        )
