"""Frequency caps as pure arithmetic: may a number be attempted now, and if not, from when.

A cap allows at most ``max_attempts`` attempts within any ``period``: an attempt sent at ``t``
counts against it at every instant in ``[t, t + period)``. An org's caps count every attempt
to the number (all campaigns and direct calls); a cap ``per_subject`` counts only the
attempts of one subject (a campaign; the org's direct calls are one subject together).

A cap counts the attempts of its channels (calls, texts or both) and holds back only sends on
them: a call is never held back by a cap on texts alone, nor a text by one on calls.

Attempts are never added by waiting, so a number held back by several caps may be attempted
again at the latest of the instants each cap frees it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.models.recipient_attempt import CALL_CHANNEL
from orchestrator.policy.schemas import PolicyIn

# The channels an attempt goes over, as the attempt ledger records them.
CALL = CALL_CHANNEL
CALLS_ONLY = frozenset({CALL})


@dataclass(frozen=True)
class Cap:
    max_attempts: int
    period: timedelta
    per_subject: bool = False
    channels: frozenset[str] = CALLS_ONLY


@dataclass(frozen=True)
class Attempt:
    """An attempt to the number: when it was sent (or will be, for one claimed and not sent
    yet) and its subject (a campaign id; None for a direct call)."""

    at: datetime
    subject: uuid.UUID | None
    # False for a call claimed and not sent yet: counted from now, but it may be withdrawn.
    sent: bool = True
    channel: str = CALL


def org_caps(policy: PolicyIn, *, channel: str = CALL) -> tuple[Cap, ...]:
    """The org's ``frequencyCaps`` that hold back a send on ``channel``: over every attempt
    to a number on their channels."""
    return tuple(
        Cap(
            cap.max_attempts,
            timedelta(seconds=cap.period_seconds),
            channels=frozenset(cap.channels),
        )
        for cap in policy.frequency_caps
        if channel in cap.channels
    )


def counted_channels(caps: Iterable[Cap]) -> frozenset[str]:
    """Every channel whose attempts one of ``caps`` counts."""
    return frozenset(channel for cap in caps for channel in cap.channels)


def longest_period(caps: Iterable[Cap]) -> timedelta:
    return max((cap.period for cap in caps), default=timedelta(0))


def _counted(cap: Cap, attempts: Iterable[Attempt], subject: uuid.UUID | None) -> list[datetime]:
    return [
        a.at
        for a in attempts
        if a.channel in cap.channels and (not cap.per_subject or a.subject == subject)
    ]


def frees_at(
    cap: Cap, attempts: Iterable[Attempt], *, subject: uuid.UUID | None, now: datetime
) -> datetime | None:
    """None if ``cap`` allows one more attempt now; else when it does again.

    Of the attempts inside the period, the ``max_attempts``-th most recent is the one whose
    leaving the period makes room.
    """
    inside = sorted(
        (at for at in _counted(cap, attempts, subject) if at > now - cap.period), reverse=True
    )
    if len(inside) < cap.max_attempts:
        return None
    return inside[cap.max_attempts - 1] + cap.period


def next_allowance(
    caps: Iterable[Cap],
    attempts: Sequence[Attempt],
    *,
    subject: uuid.UUID | None,
    now: datetime,
) -> datetime | None:
    """None if every cap allows one more attempt now; else the first instant all of them do."""
    frees = [
        moment
        for cap in caps
        if (moment := frees_at(cap, attempts, subject=subject, now=now)) is not None
    ]
    return max(frees) if frees else None


def attempts_left(caps: Iterable[Cap], attempts: Sequence[Attempt], *, now: datetime) -> int | None:
    """How many more attempts the caps over every subject allow now (None: no such cap)."""
    left = [
        cap.max_attempts - sum(1 for at in _counted(cap, attempts, None) if at > now - cap.period)
        for cap in caps
        if not cap.per_subject
    ]
    return max(min(left), 0) if left else None
