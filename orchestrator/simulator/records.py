"""One call the simulator knows: as ``GET /call/{id}`` shows it and as the journal keeps it.

In the journal (see ``journal``) a record is a JSON object with the keys ``id``, ``seq``,
``orgId``, ``requestIndex``, ``request`` (the ``POST /call`` body), ``outcome`` (the decided
outcome: ``endedReason``, ``ringSeconds``, ``talkSeconds``, ``success``; absent for a call
refused by the concurrency limit), ``status``, ``createdAt``, ``updatedAt``, ``startedAt``,
``endedAt`` (Unix epoch milliseconds), ``endedReason``, ``cost``, ``analysis`` and
``artifact``. Keys whose value is null are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator.simulator.outcomes import Outcome

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)

# Request fields a Vapi Call echoes back verbatim.
ECHOED_FIELDS = (
    "assistantId",
    "assistant",
    "squadId",
    "squad",
    "workflowId",
    "workflow",
    "squadOverrides",
    "workflowOverrides",
    "customerId",
    "name",
)


def now_ms() -> datetime:
    """Wall-clock UTC truncated to milliseconds, the precision Vapi's timestamps carry."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    # isoformat is several times faster than strftime; [:23] drops the UTC offset.
    return value.isoformat(timespec="milliseconds")[:23] + "Z"


def to_ms(value: datetime) -> int:
    """Epoch milliseconds; exact for the millisecond timestamps the simulator keeps."""
    return (value - EPOCH) // MILLISECOND


def from_ms(value: int) -> datetime:
    return EPOCH + value * MILLISECOND


def _optional_ms(value: Any) -> datetime | None:
    return None if value is None else from_ms(int(value))


def outcome_to_json(outcome: Outcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    return {
        "endedReason": outcome.ended_reason,
        "ringSeconds": outcome.ring_seconds,
        "talkSeconds": outcome.talk_seconds,
        "success": outcome.success,
    }


def outcome_from_json(data: Any) -> Outcome | None:
    if data is None:
        return None
    return Outcome(
        ended_reason=str(data["endedReason"]),
        ring_seconds=float(data["ringSeconds"]),
        talk_seconds=float(data["talkSeconds"]),
        success=bool(data["success"]),
    )


@dataclass(slots=True)
class CallRecord:
    id: str
    seq: int
    org_id: str
    request: dict[str, Any]
    outcome: Outcome | None
    created_at: datetime
    updated_at: datetime
    status: str = "queued"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    ended_reason: str | None = None
    cost: float | None = None
    analysis: dict[str, Any] | None = None
    artifact: dict[str, Any] | None = None
    # Which valid POST /call for this customer number created the call (1-based): the call's
    # identity for fault decisions, stable across runs unlike its id.
    request_index: int = 1

    @property
    def number(self) -> str:
        return str(self.customer["number"])

    @property
    def phone_number_id(self) -> str:
        return str(self.request["phoneNumberId"])

    @property
    def customer(self) -> dict[str, Any]:
        customer: dict[str, Any] = self.request["customer"]
        return customer

    @property
    def server(self) -> dict[str, Any] | None:
        """Where webhooks go: the overrides' server, else an inline assistant's."""
        for holder in (self.request.get("assistantOverrides"), self.request.get("assistant")):
            if isinstance(holder, dict) and isinstance(holder.get("server"), dict):
                server: dict[str, Any] = holder["server"]
                if server.get("url"):
                    return server
        return None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "orgId": self.org_id,
            "type": "outboundPhoneCall",
            "status": self.status,
            "endedReason": self.ended_reason,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "startedAt": iso(self.started_at),
            "endedAt": iso(self.ended_at),
            "cost": self.cost,
            "phoneCallProvider": "twilio",
            "phoneCallTransport": "pstn",
            "phoneNumberId": self.phone_number_id,
            "customer": self.customer,
            "assistantOverrides": self.request.get("assistantOverrides"),
            "analysis": self.analysis,
            "artifact": self.artifact,
        }
        body.update({key: self.request[key] for key in ECHOED_FIELDS if key in self.request})
        return body

    def to_journal(self) -> dict[str, Any]:
        """The record as the journal keeps it (see the module docstring)."""
        fields: dict[str, Any] = {
            "id": self.id,
            "seq": self.seq,
            "orgId": self.org_id,
            "requestIndex": self.request_index,
            "status": self.status,
            "createdAt": to_ms(self.created_at),
            "updatedAt": to_ms(self.updated_at),
            "startedAt": None if self.started_at is None else to_ms(self.started_at),
            "endedAt": None if self.ended_at is None else to_ms(self.ended_at),
            "endedReason": self.ended_reason,
            "cost": self.cost,
            "analysis": self.analysis,
            "artifact": self.artifact,
            "outcome": outcome_to_json(self.outcome),
            "request": self.request,
        }
        return {key: value for key, value in fields.items() if value is not None}

    @classmethod
    def from_journal(cls, data: dict[str, Any]) -> CallRecord:
        created = from_ms(int(data["createdAt"]))
        return cls(
            id=str(data["id"]),
            seq=int(data["seq"]),
            org_id=str(data["orgId"]),
            request=data["request"],
            outcome=outcome_from_json(data.get("outcome")),
            created_at=created,
            updated_at=_optional_ms(data.get("updatedAt")) or created,
            status=str(data.get("status", "queued")),
            started_at=_optional_ms(data.get("startedAt")),
            ended_at=_optional_ms(data.get("endedAt")),
            ended_reason=data.get("endedReason"),
            cost=data.get("cost"),
            analysis=data.get("analysis"),
            artifact=data.get("artifact"),
            request_index=int(data.get("requestIndex", 1)),
        )


@dataclass(frozen=True, slots=True)
class CallQuery:
    """Filters of ``GET /call``; the bounds compare against ``createdAt``."""

    id: str | None = None
    phone_number_id: str | None = None
    assistant_id: str | None = None
    created_at_gt: datetime | None = None
    created_at_lt: datetime | None = None
    created_at_ge: datetime | None = None
    created_at_le: datetime | None = None
    limit: int = 100
    newest_first: bool = True

    def matches(self, call: CallRecord) -> bool:
        created = call.created_at
        checks = (
            self.id is None or call.id == self.id,
            self.phone_number_id is None or call.phone_number_id == self.phone_number_id,
            self.assistant_id is None or call.request.get("assistantId") == self.assistant_id,
            self.created_at_gt is None or created > self.created_at_gt,
            self.created_at_lt is None or created < self.created_at_lt,
            self.created_at_ge is None or created >= self.created_at_ge,
            self.created_at_le is None or created <= self.created_at_le,
        )
        return all(checks)
