"""The simulator's ground truth: every call it was asked to place, and counters.

All mutation happens under one ``asyncio.Lock`` in the server's event loop, in three steps:
decide (outcome, concurrency limit, create rate), write the change to the journal when there
is a state dir, apply it to the ``ledger.Ledger``. Chats and sessions (``texts``, a
``text_store.TextStore``) share the journal. The journal (file format, what is kept, what
happens on start to calls that were in flight, the lock on the dir, ``fresh``) is described in
``journal``; without a state dir nothing is written anywhere.

Wall-clock time is used for the timestamps the API reports; ``time.monotonic()`` for rate
windows, so a clock step cannot distort the pacing statistics tests assert on.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from orchestrator.simulator.endings import ending
from orchestrator.simulator.faults import FaultSpec
from orchestrator.simulator.journal import Journal, epoch_ms
from orchestrator.simulator.ledger import Interrupted, Ledger
from orchestrator.simulator.outcomes import Outcome, decide_outcome, get_profile
from orchestrator.simulator.phone_numbers import (
    PhoneNumberQuery,
    PhoneNumberRecord,
    derived_number,
    parse_phone_numbers,
    sms_disabled,
)
from orchestrator.simulator.records import CallQuery, CallRecord, from_ms, now_ms, to_ms
from orchestrator.simulator.text_store import TextStore

logger = logging.getLogger(__name__)

DEFAULT_ORG_ID = "00000000-0000-4000-8000-00000000510a"
RATE_WINDOW_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """``webhook_retries`` counts retries after the first delivery attempt.

    ``faults`` is what to get wrong on purpose (see ``faults``); with ``webhook_hmac_secret``
    set, every webhook is signed (see ``webhooks``). With ``state_dir`` the state is kept on
    disk there and survives restarts, ``fresh`` starting it empty (see ``journal``); without
    it, the simulator forgets everything when it stops. ``phone_numbers`` are the numbers it
    knows from the start besides those its calls name, ``ID`` or ``ID=+E164`` each (see
    ``phone_numbers``).
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
    state_dir: Path | None = None
    fresh: bool = False
    phone_numbers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        get_profile(self.profile)
        parse_phone_numbers(self.phone_numbers)
        if self.concurrency_limit < 0:
            raise ValueError("concurrency_limit must be >= 0")


class SimulatorState:
    """Opening a state dir (in the constructor) takes its lock, replays and compacts it, and
    may raise ``journal.SimulatorStateLocked``. ``texts`` (the chats and sessions) shares the
    journal; the text engine (``chats``) guards it with its own lock."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.lock = asyncio.Lock()
        self._ledger = Ledger()
        self.texts = TextStore(config.org_id)
        self._rate_windows: defaultdict[str, deque[float]] = defaultdict(deque)
        self._journal: Journal | None = None
        self._interrupted: list[Interrupted] = []
        if config.state_dir is not None:
            self._journal = self._open(config.state_dir)
        self._know_configured_numbers()

    def _open(self, state_dir: Path) -> Journal:
        journal = Journal(state_dir)
        try:
            if not self.config.fresh:
                self._replay(journal)
            at = epoch_ms()
            journal.rewrite(chain(self._ledger.snapshot(at), self.texts.snapshot(at)))
            self.texts.journal = journal
        except BaseException:
            journal.close()
            raise
        return journal

    def _replay(self, journal: Journal) -> None:
        for line in journal.replay():
            try:
                if not self.texts.apply(line):
                    self._ledger.apply(line)
            except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
                logger.warning("simulator journal: skipping %s line: %r", line.get("op"), exc)
        if journal.last_at is not None:
            stopped = from_ms(min(journal.last_at, to_ms(now_ms())))
            self._interrupted = self._ledger.end_interrupted(stopped)

    def _know_configured_numbers(self) -> None:
        """The numbers it starts with: new ones are created now; digits given at start replace
        the ones a number had (a number keeps its id and creation time across restarts)."""
        no_sms = sms_disabled(self.config.phone_numbers)
        for phone_id, digits in parse_phone_numbers(self.config.phone_numbers).items():
            known = self._ledger.phone_numbers.get(phone_id)
            sms = phone_id not in no_sms
            if known is not None and digits in (None, known.number) and known.sms_enabled == sms:
                continue
            at = now_ms()
            record = PhoneNumberRecord(
                phone_id,
                digits or (known.number if known else derived_number(phone_id)),
                known.created_at if known else at,
                at,
                sms_enabled=sms,
            )
            if (journal := self._journal) is not None:
                journal.append({"op": "phone", "at": to_ms(at), "phoneNumber": record.to_journal()})
            self._ledger.put_phone_number(record)

    def take_interrupted(self) -> list[Interrupted]:
        """The calls ended on start because the previous run stopped in their middle, once."""
        interrupted, self._interrupted = self._interrupted, []
        return interrupted

    def close(self) -> None:
        """Release the state dir (after writing ``stopped``); nothing is written afterwards."""
        if self._journal is not None:
            self._journal.close()

    async def reset(self) -> None:
        async with self.lock:
            self._ledger = Ledger()
            self.texts = TextStore(self.config.org_id, self._journal)
            self._rate_windows.clear()
            self._interrupted = []
            if self._journal is not None:
                self._journal.truncate()
            self._know_configured_numbers()

    async def next_request_index(self, number: str) -> int:
        """Count a valid ``POST /call`` for ``number``; returns its 1-based index."""
        async with self.lock:
            if (journal := self._journal) is not None:
                journal.append({"op": "request", "at": epoch_ms(), "number": number})
            return self._ledger.count_request(number)

    async def count_fault(self, name: str) -> None:
        async with self.lock:
            if (journal := self._journal) is not None:
                journal.append({"op": "fault", "at": epoch_ms(), "name": name})
            self._ledger.count_fault(name)

    async def record_delivery(self, *, delivered: bool) -> None:
        async with self.lock:
            if (journal := self._journal) is not None:
                journal.append({"op": "delivery", "at": epoch_ms(), "ok": delivered})
            self._ledger.count_delivery(delivered=delivered)

    async def create_call(self, request: dict[str, Any], *, request_index: int = 1) -> CallRecord:
        """Register a call; when the concurrency limit is hit, ``outcome`` is None."""
        async with self.lock:
            ledger = self._ledger
            self._note_create_rate(str(request["phoneNumberId"]))
            outcome: Outcome | None = None
            if len(ledger.in_flight) < self.config.concurrency_limit:
                outcome = self._dial(str(request["customer"]["number"]))
            created = now_ms()
            record = CallRecord(
                id=str(uuid.uuid4()),
                seq=ledger.next_seq,
                org_id=self.config.org_id,
                request=request,
                outcome=outcome,
                created_at=created,
                updated_at=created,
                request_index=request_index,
            )
            if (journal := self._journal) is not None:
                journal.append({"op": "call", "at": to_ms(created), "call": record.to_journal()})
            ledger.add_call(record)
            return record

    def _dial(self, number: str) -> Outcome:
        attempt = self._ledger.counters.dials_by_number[number] + 1
        config = self.config
        return decide_outcome(
            number=number, attempt=attempt, seed=config.seed, profile=config.profile
        )

    def _note_create_rate(self, phone: str) -> None:
        now = time.monotonic()
        window = self._rate_windows[phone]
        window.append(now)
        while window[0] <= now - RATE_WINDOW_SECONDS:
            window.popleft()
        if len(window) > self._ledger.counters.max_rate_by_phone.get(phone, 0):
            if (journal := self._journal) is not None:
                journal.append(
                    {"op": "rate", "at": epoch_ms(), "phone": phone, "perSecond": len(window)}
                )
            self._ledger.raise_rate(phone, len(window))

    async def set_status(self, call_id: str, status: str) -> dict[str, Any] | None:
        """Move a live call to ``ringing`` or ``in-progress``; returns its new JSON."""
        async with self.lock:
            record = self._ledger.calls.get(call_id)
            if record is None or record.status == "ended":
                return None
            at = now_ms()
            if (journal := self._journal) is not None:
                journal.append({"op": "status", "at": to_ms(at), "id": call_id, "status": status})
            self._ledger.set_status(record, status, at)
            return record.to_json()

    async def end_call(self, call_id: str) -> dict[str, Any] | None:
        """End a call with its decided outcome (or the concurrency error); returns its JSON."""
        async with self.lock:
            record = self._ledger.calls.get(call_id)
            if record is None or record.status == "ended":
                return None
            how, at = ending(record.outcome), now_ms()
            if (journal := self._journal) is not None:
                line = {"op": "end", "at": to_ms(at), "id": call_id, "endedReason": how.reason}
                line.update(cost=how.cost, analysis=how.analysis, artifact=how.artifact)
                journal.append(line)
            self._ledger.end(record, how, at)
            return record.to_json()

    async def forget(self, ids: list[str] | None = None, *, in_flight: bool = False) -> list[str]:
        """Forget the known calls among ``ids`` (or, with ``in_flight``, every call not ended
        yet); returns their ids. The counters keep them: they were really dialed."""
        async with self.lock:
            calls = self._ledger.calls
            if in_flight:
                ids = list(self._ledger.unended)
            known = [call_id for call_id in dict.fromkeys(ids or []) if call_id in calls]
            if known:
                if (journal := self._journal) is not None:
                    journal.append({"op": "forget", "at": epoch_ms(), "ids": known})
                self._ledger.forget(known)
            return known

    async def get_call(self, call_id: str) -> dict[str, Any] | None:
        async with self.lock:
            record = self._ledger.calls.get(call_id)
            return None if record is None else record.to_json()

    async def list_calls(self, query: CallQuery) -> list[dict[str, Any]]:
        async with self.lock:
            # createdAt has millisecond precision; creation order breaks ties.
            ledger = self._ledger
            return [record.to_json() for record in ledger.index.page(query, ledger.calls)]

    async def list_phone_numbers(self, query: PhoneNumberQuery) -> list[dict[str, Any]]:
        """Newest first; of numbers created in the same millisecond, the one known last."""
        async with self.lock:
            numbers = self._ledger.phone_numbers.values()
            found = [record for record in numbers if query.matches(record)]
            found.sort(key=lambda record: record.created_at)
            found.reverse()
            return [record.to_json(self.config.org_id) for record in found[: query.limit]]

    async def get_phone_number(self, phone_id: str) -> dict[str, Any] | None:
        async with self.lock:
            record = self._ledger.phone_numbers.get(phone_id)
            return None if record is None else record.to_json(self.config.org_id)

    async def phone_number(self, phone_id: str) -> PhoneNumberRecord | None:
        async with self.lock:
            return self._ledger.phone_numbers.get(phone_id)

    async def stats(self) -> dict[str, Any]:
        async with self.lock:
            return self._ledger.stats()
