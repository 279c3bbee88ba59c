"""How a simulated customer answers a text: decided from (customer number, seed) alone.

``decide_reply(number=, seed=, profile=)`` takes ``u = sha256(f"{seed}:reply:{number}")`` as a
uniform in [0, 1) and picks, by the cumulative shares of ``REPLY_MIX``:

==========  =====  ==========================================================================
kind        share  what the customer sends
==========  =====  ==========================================================================
yes         20%    ``YES`` (some as ``yes`` or ``Yes``)
stop         5%    ``STOP`` (some as ``stop``, ``Stop`` or `` stop ``, spaces included)
question    10%    a free-text question, which the assistant answers in a second message
silence     65%    nothing
==========  =====  ==========================================================================

The spelling, the question and the delays come from further hashes of the same key, so one
number always answers the same way under one seed, to every text it gets. The reply comes
``delay_seconds`` after the text was sent, the assistant's answer ``answer_delay_seconds``
after the reply; both are drawn from the profile's range in ``REPLY_DELAYS`` (``instant`` and
``fast`` answer within a fraction of a second, ``realistic`` within minutes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final


class ReplyKind(StrEnum):
    YES = "yes"
    STOP = "stop"
    QUESTION = "question"
    SILENCE = "silence"


REPLY_MIX: Final[tuple[tuple[ReplyKind, float], ...]] = (
    (ReplyKind.YES, 0.20),
    (ReplyKind.STOP, 0.05),
    (ReplyKind.QUESTION, 0.10),
    (ReplyKind.SILENCE, 0.65),
)
SPELLINGS: Final[dict[ReplyKind, tuple[str, ...]]] = {
    ReplyKind.YES: ("YES", "YES", "yes", "Yes"),
    ReplyKind.STOP: ("STOP", "STOP", "stop", "Stop", " stop "),
}
QUESTIONS: Final[tuple[tuple[str, str], ...]] = (
    ("Can I move it to next week?", "Of course. Reply with a day that suits you and we will."),
    ("Who is this?", "This is an automated reminder from your provider."),
    ("What time was it again?", "It is at the time in our first message."),
    ("Do I need to bring anything?", "Just yourself and a photo ID."),
)
# Seconds (low, high) between a text and the reply, and between a question and its answer.
REPLY_DELAYS: Final[dict[str, tuple[float, float]]] = {
    "instant": (0.0, 0.02),
    "fast": (0.05, 0.3),
    "steady": (1.0, 3.0),
    "realistic": (20.0, 180.0),
}


@dataclass(frozen=True, slots=True)
class Reply:
    """``text`` is None for silence; ``answer`` is the assistant's answer to a question."""

    kind: ReplyKind
    text: str | None
    delay_seconds: float
    answer: str | None = None
    answer_delay_seconds: float = 0.0


def _uniform(seed: int, part: str, number: str) -> float:
    digest = hashlib.sha256(f"{seed}:{part}:{number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _pick(options: tuple[Any, ...], u: float) -> Any:
    return options[min(int(u * len(options)), len(options) - 1)]


def _kind(u: float) -> ReplyKind:
    total = 0.0
    for kind, share in REPLY_MIX:
        total += share
        if u < total:
            return kind
    return ReplyKind.SILENCE


def decide_reply(*, number: str, seed: int, profile: str = "fast") -> Reply:
    """What the customer at ``number`` answers to a text (see the module docstring)."""
    kind = _kind(_uniform(seed, "reply", number))
    low, high = REPLY_DELAYS.get(profile, REPLY_DELAYS["fast"])
    delay = low + _uniform(seed, "reply-delay", number) * (high - low)
    if kind is ReplyKind.SILENCE:
        return Reply(kind, None, delay)
    u = _uniform(seed, "reply-text", number)
    if kind is ReplyKind.QUESTION:
        question, answer = _pick(QUESTIONS, u)
        answer_delay = low + _uniform(seed, "answer-delay", number) * (high - low)
        return Reply(kind, question, delay, answer, answer_delay)
    return Reply(kind, _pick(SPELLINGS[kind], u), delay)
