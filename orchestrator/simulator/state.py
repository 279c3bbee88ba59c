"""The simulator's in-memory ground truth: every call it was asked to place, and counters.

All mutation happens under one ``asyncio.Lock`` in the server's event loop. Wall-clock time is
used for the timestamps the API reports; ``time.monotonic()`` for rate windows, so a clock step
cannot distort the pacing statistics tests assert on.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from orchestrator.simulator.faults import FAULT_COUNTERS, FaultSpec
from orchestrator.simulator.outcomes import (
    CONCURRENCY_LIMIT_REACHED,
    Outcome,
    decide_outcome,
    get_profile,
    summarize,
)

DEFAULT_ORG_ID = "00000000-0000-4000-8000-00000000510a"
RATE_WINDOW_SECONDS = 1.0

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


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """``webhook_retries`` counts retries after the first delivery attempt.

    ``faults`` is what to get wrong on purpose (see ``faults``); with ``webhook_hmac_secret``
    set, every webhook is signed (see ``webhooks``).
    """

    profile: str = "fast"
    seed: int = 0
    concurrency_limit: int = 10
    org_id: str = DEFAULT_ORG_ID
    webhook_timeout_seconds: float = 5.0
    webhook_retries: int = 5
    webhook_backoff_seconds: float = 0.05
    faults: FaultSpec = field(default_factory=FaultSpec)
    webhook_hmac_secret: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        get_profile(self.profile)
        if self.concurrency_limit < 0:
            raise ValueError("concurrency_limit must be >= 0")


def now_ms() -> datetime:
    """Wall-clock UTC truncated to milliseconds, the precision Vapi's timestamps carry."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


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


@dataclass(slots=True)
class _Counters:
    calls_placed: int = 0
    create_requests: int = 0
    requests_by_number: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    max_in_flight: int = 0
    concurrency_rejections: int = 0
    webhooks_sent: int = 0
    webhook_failures: int = 0
    dials_by_number: Counter[str] = field(default_factory=Counter)
    in_flight_by_phone: Counter[str] = field(default_factory=Counter)
    max_in_flight_by_phone: dict[str, int] = field(default_factory=dict)
    creates_by_phone: defaultdict[str, deque[float]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    max_rate_by_phone: dict[str, int] = field(default_factory=dict)
    ended_reasons: Counter[str] = field(default_factory=Counter)


class SimulatorState:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.lock = asyncio.Lock()
        self._calls: dict[str, CallRecord] = {}
        self._in_flight: set[str] = set()
        self._counters = _Counters()

    async def reset(self) -> None:
        async with self.lock:
            self._calls.clear()
            self._in_flight.clear()
            self._counters = _Counters()

    async def next_request_index(self, number: str) -> int:
        """Count a valid ``POST /call`` for ``number``; returns its 1-based index."""
        async with self.lock:
            self._counters.create_requests += 1
            self._counters.requests_by_number[number] += 1
            return self._counters.requests_by_number[number]

    async def count_fault(self, name: str) -> None:
        async with self.lock:
            self._counters.faults[name] += 1

    async def create_call(self, request: dict[str, Any], *, request_index: int = 1) -> CallRecord:
        """Register a call; when the concurrency limit is hit, ``outcome`` is None."""
        async with self.lock:
            counters = self._counters
            phone = str(request["phoneNumberId"])
            self._note_create_rate(phone)
            counters.calls_placed += 1
            outcome: Outcome | None = None
            if len(self._in_flight) >= self.config.concurrency_limit:
                counters.concurrency_rejections += 1
            else:
                outcome = self._dial(str(request["customer"]["number"]))
            created = now_ms()
            record = CallRecord(
                id=str(uuid.uuid4()),
                seq=len(self._calls),
                org_id=self.config.org_id,
                request=request,
                outcome=outcome,
                created_at=created,
                updated_at=created,
                request_index=request_index,
            )
            self._calls[record.id] = record
            if outcome is not None:
                self._enter_flight(record)
            return record

    def _dial(self, number: str) -> Outcome:
        dials = self._counters.dials_by_number
        dials[number] += 1
        return decide_outcome(
            number=number, attempt=dials[number], seed=self.config.seed, profile=self.config.profile
        )

    def _note_create_rate(self, phone: str) -> None:
        now = time.monotonic()
        window = self._counters.creates_by_phone[phone]
        window.append(now)
        while window[0] <= now - RATE_WINDOW_SECONDS:
            window.popleft()
        rates = self._counters.max_rate_by_phone
        rates[phone] = max(rates.get(phone, 0), len(window))

    def _enter_flight(self, record: CallRecord) -> None:
        counters = self._counters
        phone = record.phone_number_id
        self._in_flight.add(record.id)
        counters.in_flight_by_phone[phone] += 1
        counters.max_in_flight = max(counters.max_in_flight, len(self._in_flight))
        peak = counters.max_in_flight_by_phone.get(phone, 0)
        counters.max_in_flight_by_phone[phone] = max(peak, counters.in_flight_by_phone[phone])

    async def set_status(self, call_id: str, status: str) -> dict[str, Any] | None:
        """Move a live call to ``ringing`` or ``in-progress``; returns its new JSON."""
        async with self.lock:
            record = self._calls.get(call_id)
            if record is None or record.status == "ended":
                return None
            record.status = status
            record.updated_at = now_ms()
            if status == "in-progress":
                record.started_at = record.updated_at
            return record.to_json()

    async def end_call(self, call_id: str) -> dict[str, Any] | None:
        """End a call with its decided outcome (or the concurrency error); returns its JSON."""
        async with self.lock:
            record = self._calls.get(call_id)
            if record is None or record.status == "ended":
                return None
            outcome = record.outcome
            record.status = "ended"
            record.updated_at = record.ended_at = now_ms()
            if outcome is None:
                record.ended_reason = CONCURRENCY_LIMIT_REACHED
                record.cost = 0.0
                record.analysis = {
                    "summary": "The call was not started: the concurrency limit was reached.",
                    "successEvaluation": "false",
                }
                record.artifact = {"transcript": "", "messages": []}
            else:
                record.ended_reason = outcome.ended_reason
                record.cost = outcome.cost
                record.analysis, transcript = summarize(outcome)
                record.artifact = {"transcript": transcript, "messages": []}
            self._counters.ended_reasons[record.ended_reason] += 1
            if call_id in self._in_flight:
                self._in_flight.discard(call_id)
                self._counters.in_flight_by_phone[record.phone_number_id] -= 1
            return record.to_json()

    async def record_delivery(self, *, delivered: bool) -> None:
        async with self.lock:
            if delivered:
                self._counters.webhooks_sent += 1
            else:
                self._counters.webhook_failures += 1

    async def get_call(self, call_id: str) -> dict[str, Any] | None:
        async with self.lock:
            record = self._calls.get(call_id)
            return None if record is None else record.to_json()

    async def list_calls(self, query: CallQuery) -> list[dict[str, Any]]:
        async with self.lock:
            found = [record for record in self._calls.values() if query.matches(record)]
            # createdAt has millisecond precision; creation order breaks ties.
            found.sort(key=lambda r: (r.created_at, r.seq), reverse=query.newest_first)
            return [record.to_json() for record in found[: query.limit]]

    async def stats(self) -> dict[str, Any]:
        async with self.lock:
            counters = self._counters
            return {
                "callsPlaced": counters.calls_placed,
                "inFlight": len(self._in_flight),
                "maxInFlight": counters.max_in_flight,
                "maxInFlightByPhoneNumber": dict(counters.max_in_flight_by_phone),
                "maxCallsPerSecondByPhoneNumber": dict(counters.max_rate_by_phone),
                "concurrencyRejections": counters.concurrency_rejections,
                "numbersDialedMoreThanOnce": sorted(
                    number for number, dials in counters.dials_by_number.items() if dials > 1
                ),
                "webhooksSent": counters.webhooks_sent,
                "webhookFailures": counters.webhook_failures,
                "endedReasons": dict(counters.ended_reasons),
                "createRequests": counters.create_requests,
                "faults": {name: counters.faults[name] for name in FAULT_COUNTERS},
            }
