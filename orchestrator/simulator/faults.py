"""Fault injection: what the simulator does wrong on purpose, decided deterministically.

Spec syntax (``orchestrator simulator --faults ...`` or ``ORCH_SIMULATOR_FAULTS``): comma-separated
``name=value`` items, each name at most once; whitespace around items is ignored and an empty
spec means no faults. Probabilities are decimals in [0, 1]; seconds are decimals >= 0.

Faults on webhooks (each message of a call is decided on its own):

* ``dup=p``: the message is delivered twice, the copy (same bytes) ``dup_gap`` seconds later.
* ``drop=p``: the message is never sent. The call itself is unaffected: ``GET /call/{id}``
  still shows its true status and ``endedReason``.
* ``drop_call=p``: every message of the call is dropped (its server was unreachable for the
  whole call), decided once per call; each lost message also counts as a ``drop``.
* ``reorder=p``: the message is held back and delivered right after the next message of the
  same call that is delivered (so ``ringing`` after ``in-progress``, or the ``ended``
  status-update after the end-of-call-report). The end-of-call-report, last of every call, is
  never held back. Every message is still delivered (unless dropped).
* ``delay=SECONDS`` or ``delay=p:SECONDS``: with probability ``p`` (default 1) the message
  waits a uniform random time in [0, SECONDS) before it is sent. A call's messages go out one
  after another, so a delay also holds back the call's later messages; it never reorders them.

Faults on ``POST /call`` (a request that fails validation is answered 400 and never faulted):

* ``create_429=p``: answered 429 with ``Retry-After: <retry_after>`` (whole seconds, default 1);
  nothing is created.
* ``create_5xx=p``: answered 500, 502 or 503. With probability ``create_5xx_created`` (default
  0.5) the call was created anyway before the error (it plays and sends webhooks); otherwise
  nothing was created.
* ``create_timeout=p``: the call is created and plays (webhooks follow), but the 201 answer is
  held for ``timeout_hold`` seconds (default 15, more than the orchestrator's default 10 s
  provider timeout), so the client times out first. The hold ends early once the client has
  hung up; the connection is never dropped by the simulator.

When several create faults fire for one request, the first in the order 429, 5xx, timeout wins.

Determinism. Every decision is ``u < p`` for a uniform ``u`` taken from
``sha256(f"{seed}:{name}:{number}:{request_index}[:{message_index}]")``, where ``name`` is the
fault (or ``delay_seconds``, ``create_5xx_created``, ``create_5xx_status`` for the amounts),
``number`` is the customer number, ``request_index`` is the 1-based count of valid ``POST /call``
requests this simulator has received for that number (since start or reset, whatever their
answer), and ``message_index`` is the 0-based position of the message in the call's own
sequence (``ringing``, ``in-progress``, ``ended``, end-of-call-report). So, for one seed and
spec, the k-th request for a number and every message of the call it creates meet the same
faults in every run, whatever the order in which requests for different numbers arrive. Not
deterministic: call ids, timestamps, whether the concurrency limit refuses a call (it depends
on timing, and changes the call's messages), and retries of deliveries the receiver fails.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Final

WEBHOOK_FAULTS: Final = ("dup", "reorder", "drop", "drop_call", "delay")
CREATE_FAULTS: Final = ("create_429", "create_5xx", "create_timeout")
SERVER_ERROR_STATUSES: Final = (500, 502, 503)
# Every counter /simulator/stats reports under "faults", zero included.
FAULT_COUNTERS: Final = (
    "dup",
    "drop",
    "drop_call",
    "reorder",
    "delay",
    "create_5xx_created",
    "create_5xx_not_created",
    "create_timeout",
    "create_429",
)


class FaultSpecError(ValueError):
    """A ``--faults`` spec that cannot be used; the message lists every problem."""


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Parsed ``--faults``; the defaults inject nothing. ``delay`` is the probability of a delay,
    ``delay_seconds`` its upper bound."""

    dup: float = 0.0
    reorder: float = 0.0
    drop: float = 0.0
    drop_call: float = 0.0
    delay: float = 0.0
    delay_seconds: float = 0.0
    create_5xx: float = 0.0
    create_5xx_created: float = 0.5
    create_timeout: float = 0.0
    timeout_hold: float = 15.0
    create_429: float = 0.0
    retry_after: int = 1
    dup_gap: float = 0.05

    def __post_init__(self) -> None:
        problems = self.errors()
        if problems:
            raise FaultSpecError("; ".join(problems))

    def errors(self) -> list[str]:
        problems = [
            f"{name} must be a probability between 0 and 1"
            for name in (*WEBHOOK_FAULTS, *CREATE_FAULTS, "create_5xx_created")
            if not 0.0 <= getattr(self, name) <= 1.0
        ]
        problems += [
            f"{name} must be a finite number of seconds >= 0"
            for name in ("delay_seconds", "timeout_hold", "dup_gap", "retry_after")
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0)
        ]
        return problems

    @property
    def active(self) -> bool:
        """Whether any fault can fire (parameters alone inject nothing)."""
        delays = self.delay > 0 and self.delay_seconds > 0
        others = ("dup", "reorder", "drop", "drop_call", *CREATE_FAULTS)
        return delays or any(getattr(self, name) > 0 for name in others)

    def __str__(self) -> str:
        """The canonical spec: only what differs from the defaults; parses back to ``self``."""
        default = FaultSpec()
        items: list[str] = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "delay_seconds" or value == getattr(default, item.name):
                continue
            if item.name == "delay":
                items.append(f"delay={value:g}:{self.delay_seconds:g}")
            else:
                items.append(f"{item.name}={value:g}")
        return ",".join(items)


# --------------------------------------------------------------------------- parsing

Values = dict[str, float | int]


def _number(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


def _probability(name: str, raw: str) -> Values:
    value = _number(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}={raw}: must be a probability between 0 and 1")
    return {name: value}


def _seconds(name: str, raw: str) -> Values:
    value = _number(raw)
    if value < 0:
        raise ValueError(f"{name}={raw}: must be a number of seconds >= 0")
    return {name: value}


def _whole_seconds(name: str, raw: str) -> Values:
    if not raw.isdigit():
        raise ValueError(f"{name}={raw}: must be a whole number of seconds >= 0")
    return {name: int(raw)}


def _delay(name: str, raw: str) -> Values:
    probability, sep, seconds = raw.rpartition(":")
    try:
        chance = _number(probability) if sep else 1.0
        limit = _number(seconds)
    except ValueError:
        raise ValueError(f"{name}={raw}: expected SECONDS or p:SECONDS") from None
    if not 0.0 <= chance <= 1.0:
        raise ValueError(f"{name}={raw}: the probability must be between 0 and 1")
    if limit < 0:
        raise ValueError(f"{name}={raw}: the seconds must be >= 0")
    return {name: chance, "delay_seconds": limit}


_PARSERS: Final[dict[str, Callable[[str, str], Values]]] = {
    "dup": _probability,
    "reorder": _probability,
    "drop": _probability,
    "drop_call": _probability,
    "delay": _delay,
    "create_5xx": _probability,
    "create_timeout": _probability,
    "create_429": _probability,
    "create_5xx_created": _probability,
    "timeout_hold": _seconds,
    "retry_after": _whole_seconds,
    "dup_gap": _seconds,
}


def _parse_item(item: str, values: Values, seen: set[str]) -> None:
    name, sep, raw = (part.strip() for part in item.partition("="))
    if not sep or not name or not raw:
        raise ValueError(f"{item!r}: expected name=value")
    parser = _PARSERS.get(name)
    if parser is None:
        raise ValueError(f"unknown fault {name!r} (known: {', '.join(_PARSERS)})")
    if name in seen:
        raise ValueError(f"{name} is given more than once")
    seen.add(name)
    try:
        values.update(parser(name, raw))
    except ValueError as exc:
        detail = str(exc)
        raise ValueError(detail if name in detail else f"{name}={raw}: not a number") from None


def parse_faults(text: str) -> FaultSpec:
    """Parse a ``--faults`` spec (see the module docstring); raises ``FaultSpecError``."""
    values: Values = {}
    seen: set[str] = set()
    problems: list[str] = []
    for item in text.split(","):
        if not item.strip():
            continue
        try:
            _parse_item(item.strip(), values, seen)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise FaultSpecError("; ".join(problems))
    return FaultSpec(**values)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- decisions


def fault_uniform(seed: int, name: str, *parts: object) -> float:
    """A uniform in [0, 1) fixed by the seed, the fault's name and the event's identity."""
    key = ":".join([str(seed), name, *(str(part) for part in parts)])
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class CreateFault(StrEnum):
    NONE = "none"
    RATE_LIMITED = "create_429"
    SERVER_ERROR_CREATED = "create_5xx_created"
    SERVER_ERROR_NOT_CREATED = "create_5xx_not_created"
    TIMEOUT = "create_timeout"

    @property
    def creates(self) -> bool:
        """Whether the call really exists after this answer."""
        return self not in (CreateFault.RATE_LIMITED, CreateFault.SERVER_ERROR_NOT_CREATED)


@dataclass(frozen=True, slots=True)
class CreateDecision:
    fault: CreateFault
    status_code: int


def decide_create(spec: FaultSpec, *, seed: int, number: str, request_index: int) -> CreateDecision:
    """What happens to the ``request_index``-th valid ``POST /call`` for ``number``."""

    def fires(name: str, probability: float) -> bool:
        return probability > 0 and fault_uniform(seed, name, number, request_index) < probability

    if fires("create_429", spec.create_429):
        return CreateDecision(CreateFault.RATE_LIMITED, 429)
    if fires("create_5xx", spec.create_5xx):
        u = fault_uniform(seed, "create_5xx_status", number, request_index)
        status = SERVER_ERROR_STATUSES[int(u * len(SERVER_ERROR_STATUSES))]
        if fires("create_5xx_created", spec.create_5xx_created):
            return CreateDecision(CreateFault.SERVER_ERROR_CREATED, status)
        return CreateDecision(CreateFault.SERVER_ERROR_NOT_CREATED, status)
    if fires("create_timeout", spec.create_timeout):
        return CreateDecision(CreateFault.TIMEOUT, 201)
    return CreateDecision(CreateFault.NONE, 201)


@dataclass(frozen=True, slots=True)
class DeliveryPlan:
    """How one webhook message goes out. A dropped message has no other fault."""

    drop: bool = False
    # Dropped because every message of the call is (``drop_call``).
    whole_call: bool = False
    duplicate: bool = False
    hold_back: bool = False
    delay_seconds: float = 0.0


NO_FAULT: Final = DeliveryPlan()


def call_dropped(spec: FaultSpec, *, seed: int, number: str, request_index: int) -> bool:
    """Whether every message of the call made by that request is lost (``drop_call``)."""
    return (
        spec.drop_call > 0
        and fault_uniform(seed, "drop_call", number, request_index) < spec.drop_call
    )


def plan_delivery(
    spec: FaultSpec,
    *,
    seed: int,
    number: str,
    request_index: int,
    message_index: int,
    last: bool,
) -> DeliveryPlan:
    """The faults of message ``message_index`` of the call made by that request."""

    # A draw is made only for a fault that can fire: ``u < 0`` never holds, so skipping it
    # changes no decision, and without faults a message costs no hashing.
    def fires(name: str, probability: float) -> bool:
        return probability > 0 and draw(name) < probability

    def draw(name: str) -> float:
        return fault_uniform(seed, name, number, request_index, message_index)

    if call_dropped(spec, seed=seed, number=number, request_index=request_index):
        return DeliveryPlan(drop=True, whole_call=True)
    if fires("drop", spec.drop):
        return DeliveryPlan(drop=True)
    if not (spec.dup or spec.reorder or spec.delay):
        return NO_FAULT
    delayed = spec.delay_seconds > 0 and fires("delay", spec.delay)
    return DeliveryPlan(
        duplicate=fires("dup", spec.dup),
        hold_back=not last and fires("reorder", spec.reorder),
        delay_seconds=draw("delay_seconds") * spec.delay_seconds if delayed else 0.0,
    )
