"""The simulator's outcome function: what happens when it dials a number, and how long it takes.

``decide_outcome(number=..., attempt=..., seed=...)`` is pure and deterministic, so tests and
load runs can predict every call. ``attempt`` is the 1-based count of calls this simulator has
actually dialed to that customer number (calls refused by the concurrency limit are not dials).

Derivation. ``digest = sha256(f"{seed}:{number}:{attempt}")``, read as four big-endian 64-bit
words ``w0..w3``, each mapped to a uniform ``u_i = w_i / 2**64`` in [0, 1):

* ``u0`` picks the ended reason from the cumulative mix, in this order::

      customer-ended-call            35%   [0.00, 0.35)   answered, conversation
      assistant-ended-call           20%   [0.35, 0.55)   answered, conversation
      customer-did-not-answer        20%   [0.55, 0.75)   rings, never answered
      customer-busy                   8%   [0.75, 0.83)   rings briefly, never answered
      voicemail                      12%   [0.83, 0.95)   answered by a machine
      twilio-failed-to-connect-call   5%   [0.95, 1.00)   never rings

* ``u1`` places the ring time inside the profile's range for that outcome: ``ring`` for
  answered, busy and failed calls, ``no_answer`` for calls nobody picks up.
* ``u2`` places the talk time inside ``talk`` (conversations) or ``voicemail``; other outcomes
  have no talk time.
* ``u3`` decides ``successEvaluation`` ("true" when ``u3 < 0.6`` for a conversation, otherwise
  "false").

Every range is ``low + u * (high - low)``, so durations lie in ``[low, high)``. Cost is billed
on talk time only, at ``COST_PER_MINUTE`` dollars a minute plus ``COST_PER_CONNECTED_CALL``.

Profiles (seconds):

=========== ============ ============ ============ =============
profile     ring         talk         voicemail    no_answer
=========== ============ ============ ============ =============
instant     0 - 0.02     0 - 0.02     0 - 0.02     0 - 0.02
fast        0.02 - 0.15  0.05 - 0.4   0.05 - 0.2   0.1 - 0.3
steady      0.5 - 1.5    2 - 5        2 - 4        2 - 4
realistic   2 - 12       15 - 120     18 - 22      20 - 35
=========== ============ ============ ============ =============
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

CUSTOMER_ENDED = "customer-ended-call"
ASSISTANT_ENDED = "assistant-ended-call"
NO_ANSWER = "customer-did-not-answer"
BUSY = "customer-busy"
VOICEMAIL = "voicemail"
FAILED_TO_CONNECT = "twilio-failed-to-connect-call"
CONCURRENCY_LIMIT_REACHED = "call.start.error-subscription-concurrency-limit-reached"

OUTCOME_MIX: Final[tuple[tuple[str, float], ...]] = (
    (CUSTOMER_ENDED, 0.35),
    (ASSISTANT_ENDED, 0.20),
    (NO_ANSWER, 0.20),
    (BUSY, 0.08),
    (VOICEMAIL, 0.12),
    (FAILED_TO_CONNECT, 0.05),
)

CONVERSATION_REASONS: Final = frozenset({CUSTOMER_ENDED, ASSISTANT_ENDED})
ANSWERED_REASONS: Final = CONVERSATION_REASONS | {VOICEMAIL}

COST_PER_MINUTE: Final = 0.12
COST_PER_CONNECTED_CALL: Final = 0.01
SUCCESS_RATE: Final = 0.6

Range = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    ring: Range
    talk: Range
    voicemail: Range
    no_answer: Range


PROFILES: Final[dict[str, Profile]] = {
    "instant": Profile("instant", (0.0, 0.02), (0.0, 0.02), (0.0, 0.02), (0.0, 0.02)),
    "fast": Profile("fast", (0.02, 0.15), (0.05, 0.4), (0.05, 0.2), (0.1, 0.3)),
    # Calls long enough that concurrency caps, not only rates, hold calls back.
    "steady": Profile("steady", (0.5, 1.5), (2.0, 5.0), (2.0, 4.0), (2.0, 4.0)),
    "realistic": Profile("realistic", (2.0, 12.0), (15.0, 120.0), (18.0, 22.0), (20.0, 35.0)),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a dialed call plays out. ``talk_seconds`` is 0 unless the call is answered."""

    ended_reason: str
    ring_seconds: float
    talk_seconds: float
    success: bool

    @property
    def rings(self) -> bool:
        """Failed connections end before the phone rings; everything else rings first."""
        return self.ended_reason != FAILED_TO_CONNECT

    @property
    def answered(self) -> bool:
        """Answered calls (including by voicemail) go in-progress and are billed."""
        return self.ended_reason in ANSWERED_REASONS

    @property
    def cost(self) -> float:
        if not self.answered:
            return 0.0
        return talk_cost(self.talk_seconds)


def talk_cost(talk_seconds: float) -> float:
    """What an answered call with ``talk_seconds`` of talk time costs."""
    return round(COST_PER_CONNECTED_CALL + talk_seconds / 60 * COST_PER_MINUTE, 6)


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown simulator profile {name!r}; expected one of {known}") from None


def uniforms(*, number: str, attempt: int, seed: int) -> tuple[float, float, float, float]:
    digest = hashlib.sha256(f"{seed}:{number}:{attempt}".encode()).digest()
    words = [int.from_bytes(digest[i : i + 8], "big") for i in range(0, 32, 8)]
    u0, u1, u2, u3 = (word / 2**64 for word in words)
    return u0, u1, u2, u3


def pick_reason(u: float) -> str:
    cumulative = 0.0
    for reason, share in OUTCOME_MIX:
        cumulative += share
        if u < cumulative:
            return reason
    # Float rounding can leave the cumulative sum a hair under 1.0.
    return OUTCOME_MIX[-1][0]


def _within(bounds: Range, u: float) -> float:
    low, high = bounds
    return low + u * (high - low)


def decide_outcome(
    *, number: str, attempt: int, seed: int, profile: str | Profile = "fast"
) -> Outcome:
    """The outcome of dialing ``number`` for the ``attempt``-th time; see the module docstring."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    prof = get_profile(profile) if isinstance(profile, str) else profile
    u0, u1, u2, u3 = uniforms(number=number, attempt=attempt, seed=seed)
    reason = pick_reason(u0)
    ring_range = prof.no_answer if reason == NO_ANSWER else prof.ring
    if reason in CONVERSATION_REASONS:
        talk = _within(prof.talk, u2)
    elif reason == VOICEMAIL:
        talk = _within(prof.voicemail, u2)
    else:
        talk = 0.0
    return Outcome(
        ended_reason=reason,
        ring_seconds=_within(ring_range, u1),
        talk_seconds=talk,
        success=reason in CONVERSATION_REASONS and u3 < SUCCESS_RATE,
    )


def summarize(outcome: Outcome) -> tuple[dict[str, str], str]:
    """The ``analysis`` and transcript a call with this outcome produces."""
    reason = outcome.ended_reason
    if reason in CONVERSATION_REASONS:
        who = "customer" if reason == CUSTOMER_ENDED else "assistant"
        summary = f"The assistant spoke with the customer; the {who} ended the call."
        transcript = "AI: Hello, this is the assistant calling.\nUser: Hi, go ahead.\n"
    elif reason == VOICEMAIL:
        summary = "The call reached voicemail and the assistant left a message."
        transcript = "AI: Hello, sorry we missed you. We will try again later.\n"
    else:
        summary = f"The call did not connect ({reason})."
        transcript = ""
    evaluation = "true" if outcome.success else "false"
    return {"summary": summary, "successEvaluation": evaluation}, transcript
