"""The simulator's ground truth as plain data: its calls, the calls in flight, and its counters.

Every change goes through one ``Ledger`` method, both while serving and when a journal is
replayed (``apply`` maps each journal line to the same method), so a replayed ledger is the one
that was written. The in-flight peaks are not journaled: replaying the calls' entries and exits
in their order reproduces them. Decisions (outcomes, the concurrency limit, create rates) are
made by ``state.SimulatorState`` before it calls in here; this module holds no lock.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestrator.simulator.call_index import CallIndex
from orchestrator.simulator.endings import Ending, cut_off
from orchestrator.simulator.faults import FAULT_COUNTERS
from orchestrator.simulator.phone_numbers import PhoneNumberRecord, derived_number
from orchestrator.simulator.records import CallRecord, from_ms

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Interrupted:
    """A call ended on start; ``status`` is where the previous run left it."""

    record: CallRecord
    status: str


@dataclass(slots=True)
class Counters:
    calls_placed: int = 0
    create_requests: int = 0
    requests_by_number: Counter[str] = field(default_factory=Counter)
    dials_by_number: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    concurrency_rejections: int = 0
    webhooks_sent: int = 0
    webhook_failures: int = 0
    ended_reasons: Counter[str] = field(default_factory=Counter)
    max_in_flight: int = 0
    max_in_flight_by_phone: dict[str, int] = field(default_factory=dict)
    max_rate_by_phone: dict[str, int] = field(default_factory=dict)
    forgotten: int = 0
    # The numbers dialed more than once, kept as dials are counted (derived, not journaled).
    redialed: set[str] = field(default_factory=set)

    def count_dial(self, number: str) -> None:
        self.dials_by_number[number] += 1
        if self.dials_by_number[number] == 2:
            self.redialed.add(number)

    def to_journal(self) -> dict[str, Any]:
        return {
            "callsPlaced": self.calls_placed,
            "createRequests": self.create_requests,
            "requestsByNumber": dict(self.requests_by_number),
            "dialsByNumber": dict(self.dials_by_number),
            "faults": dict(self.faults),
            "concurrencyRejections": self.concurrency_rejections,
            "webhooksSent": self.webhooks_sent,
            "webhookFailures": self.webhook_failures,
            "endedReasons": dict(self.ended_reasons),
            "maxInFlight": self.max_in_flight,
            "maxInFlightByPhoneNumber": self.max_in_flight_by_phone,
            "maxCallsPerSecondByPhoneNumber": self.max_rate_by_phone,
            "forgotten": self.forgotten,
        }

    @classmethod
    def from_journal(cls, data: dict[str, Any]) -> Counters:
        dials: Counter[str] = Counter(data["dialsByNumber"])
        return cls(
            calls_placed=int(data["callsPlaced"]),
            create_requests=int(data["createRequests"]),
            requests_by_number=Counter(data["requestsByNumber"]),
            dials_by_number=dials,
            faults=Counter(data["faults"]),
            concurrency_rejections=int(data["concurrencyRejections"]),
            webhooks_sent=int(data["webhooksSent"]),
            webhook_failures=int(data["webhookFailures"]),
            ended_reasons=Counter(data["endedReasons"]),
            max_in_flight=int(data["maxInFlight"]),
            max_in_flight_by_phone=dict(data["maxInFlightByPhoneNumber"]),
            max_rate_by_phone=dict(data["maxCallsPerSecondByPhoneNumber"]),
            forgotten=int(data.get("forgotten", 0)),
            redialed={number for number, count in dials.items() if count > 1},
        )


class Ledger:
    def __init__(self) -> None:
        self.calls: dict[str, CallRecord] = {}
        self.index = CallIndex()
        # Every call not ended yet, in creation order: in flight, or refused and ending.
        self.unended: dict[str, None] = {}
        self.in_flight: set[str] = set()
        self.in_flight_by_phone: Counter[str] = Counter()
        self.counters = Counters()
        self.phone_numbers: dict[str, PhoneNumberRecord] = {}
        # Never reused, also after a forget or a restart: ``seq`` breaks createdAt ties.
        self.next_seq = 0

    def count_request(self, number: str) -> int:
        """Count a valid ``POST /call`` for ``number``; returns its 1-based index."""
        self.counters.create_requests += 1
        self.counters.requests_by_number[number] += 1
        return self.counters.requests_by_number[number]

    def count_fault(self, name: str) -> None:
        self.counters.faults[name] += 1

    def count_delivery(self, *, delivered: bool) -> None:
        if delivered:
            self.counters.webhooks_sent += 1
        else:
            self.counters.webhook_failures += 1

    def raise_rate(self, phone: str, per_second: int) -> None:
        rates = self.counters.max_rate_by_phone
        rates[phone] = max(rates.get(phone, 0), per_second)

    def add_call(self, record: CallRecord) -> None:
        """A new call: counted, and in flight unless the concurrency limit refused it."""
        counters = self.counters
        counters.calls_placed += 1
        if record.outcome is None:
            counters.concurrency_rejections += 1
        else:
            counters.count_dial(record.number)
        self.restore_call(record)
        if record.outcome is not None:
            counters.max_in_flight = max(counters.max_in_flight, len(self.in_flight))
            phone = record.phone_number_id
            peak = counters.max_in_flight_by_phone.get(phone, 0)
            counters.max_in_flight_by_phone[phone] = max(peak, self.in_flight_by_phone[phone])

    def restore_call(self, record: CallRecord) -> None:
        """A call as a compacted journal keeps it: in place, nothing counted."""
        if (known := self.calls.get(record.id)) is not None:
            self.index.remove(known)
        self.calls[record.id] = record
        self.index.add(record)
        if record.status != "ended":
            self.unended[record.id] = None
        self._know_phone_number(record)
        self.next_seq = max(self.next_seq, record.seq + 1)
        if record.outcome is not None and record.status != "ended":
            self.in_flight.add(record.id)
            self.in_flight_by_phone[record.phone_number_id] += 1

    def put_phone_number(self, record: PhoneNumberRecord) -> None:
        self.phone_numbers[record.id] = record

    def _know_phone_number(self, call: CallRecord) -> None:
        """A call's caller number is known from its first call on, created when that call was."""
        phone_id = call.phone_number_id
        if phone_id not in self.phone_numbers:
            created = call.created_at
            self.put_phone_number(
                PhoneNumberRecord(phone_id, derived_number(phone_id), created, created)
            )

    def set_status(self, record: CallRecord, status: str, at: datetime) -> None:
        record.status = status
        record.updated_at = at
        if status == "in-progress":
            record.started_at = at

    def end(self, record: CallRecord, how: Ending, at: datetime) -> None:
        record.status = "ended"
        record.updated_at = record.ended_at = at
        record.ended_reason = how.reason
        record.cost = how.cost
        record.analysis = how.analysis
        record.artifact = how.artifact
        self.counters.ended_reasons[how.reason] += 1
        self.unended.pop(record.id, None)
        self._leave_flight(record)

    def forget(self, ids: list[str]) -> list[str]:
        """Drop the known calls among ``ids``; returns them. Counters keep them."""
        forgotten = []
        for call_id in ids:
            record = self.calls.pop(call_id, None)
            if record is not None:
                self.index.remove(record)
                self.unended.pop(call_id, None)
                self._leave_flight(record)
                forgotten.append(call_id)
        self.counters.forgotten += len(forgotten)
        return forgotten

    def _leave_flight(self, record: CallRecord) -> None:
        if record.id in self.in_flight:
            self.in_flight.discard(record.id)
            self.in_flight_by_phone[record.phone_number_id] -= 1

    def end_interrupted(self, stopped_at: datetime) -> list[Interrupted]:
        """End every call not ended yet, as cut off at ``stopped_at``; returns them."""
        interrupted = [
            Interrupted(record, record.status)
            for record in map(self.calls.__getitem__, list(self.unended))
        ]
        for cut in interrupted:
            # A clock stepped back must not end a call before it started.
            at = max(stopped_at, cut.record.updated_at)
            self.end(cut.record, cut_off(cut.record, at), at)
        return interrupted

    def apply(self, line: dict[str, Any]) -> None:
        """Replay one journal line (see ``journal`` for the format)."""
        op = line.get("op")
        if op == "stopped":
            return
        replay = _REPLAY.get(str(op))
        if replay is None:
            logger.warning("simulator journal: skipping a line of unknown kind %r", op)
            return
        replay(self, line)

    def snapshot(self, at: int) -> Iterator[dict[str, Any]]:
        """The lines of a compacted journal: the counters, every phone number, then every call
        as it is now."""
        counters = self.counters.to_journal()
        yield {"op": "counters", "at": at, "nextSeq": self.next_seq, "counters": counters}
        for phone_number in self.phone_numbers.values():
            yield {"op": "phone", "at": at, "phoneNumber": phone_number.to_journal()}
        for record in self.calls.values():
            yield {"op": "record", "at": at, "call": record.to_journal()}

    def stats(self) -> dict[str, Any]:
        counters = self.counters
        return {
            "callsPlaced": counters.calls_placed,
            "inFlight": len(self.in_flight),
            "maxInFlight": counters.max_in_flight,
            "maxInFlightByPhoneNumber": dict(counters.max_in_flight_by_phone),
            "maxCallsPerSecondByPhoneNumber": dict(counters.max_rate_by_phone),
            "concurrencyRejections": counters.concurrency_rejections,
            "numbersDialedMoreThanOnce": sorted(counters.redialed),
            "webhooksSent": counters.webhooks_sent,
            "webhookFailures": counters.webhook_failures,
            "endedReasons": dict(counters.ended_reasons),
            "createRequests": counters.create_requests,
            "faults": {name: counters.faults[name] for name in FAULT_COUNTERS},
            "forgotten": counters.forgotten,
        }


def _replay_call(ledger: Ledger, line: dict[str, Any]) -> None:
    ledger.add_call(CallRecord.from_journal(line["call"]))


def _replay_record(ledger: Ledger, line: dict[str, Any]) -> None:
    ledger.restore_call(CallRecord.from_journal(line["call"]))


def _replay_status(ledger: Ledger, line: dict[str, Any]) -> None:
    if (record := ledger.calls.get(str(line["id"]))) is not None:
        ledger.set_status(record, str(line["status"]), from_ms(int(line["at"])))


def _replay_end(ledger: Ledger, line: dict[str, Any]) -> None:
    if (record := ledger.calls.get(str(line["id"]))) is not None:
        how = Ending(str(line["endedReason"]), line["cost"], line["analysis"], line["artifact"])
        ledger.end(record, how, from_ms(int(line["at"])))


def _replay_counters(ledger: Ledger, line: dict[str, Any]) -> None:
    ledger.counters = Counters.from_journal(line["counters"])
    ledger.next_seq = max(ledger.next_seq, int(line["nextSeq"]))


_REPLAY: dict[str, Callable[[Ledger, dict[str, Any]], object]] = {
    "request": lambda ledger, line: ledger.count_request(str(line["number"])),
    "fault": lambda ledger, line: ledger.count_fault(str(line["name"])),
    "delivery": lambda ledger, line: ledger.count_delivery(delivered=bool(line["ok"])),
    "rate": lambda ledger, line: ledger.raise_rate(str(line["phone"]), int(line["perSecond"])),
    "forget": lambda ledger, line: ledger.forget([str(i) for i in line["ids"]]),
    "call": _replay_call,
    "record": _replay_record,
    "status": _replay_status,
    "end": _replay_end,
    "counters": _replay_counters,
    "phone": lambda ledger, line: ledger.put_phone_number(
        PhoneNumberRecord.from_journal(line["phoneNumber"])
    ),
}
