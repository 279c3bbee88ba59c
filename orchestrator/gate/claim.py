"""The gate at claim time: a filter over a dispatch's candidates, so capacity is not spent on
contacts that may not be called (the send-time check is the guarantee).

Set-based: one query for the suppressed among every candidate's number and, when caps apply,
one for their attempts in the ledger and one for calls claimed or being dialed to any of them
(attempts about to be made, counted from now): two campaigns in one dispatch see each other's
claims of the last dispatch, and ``attempts_left`` keeps this dispatch from handing one
number's last allowance to two of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from orchestrator.gate import repository
from orchestrator.gate.caps import Attempt, Cap, attempts_left, counted_channels, longest_period
from orchestrator.gate.decisions import GateDecision, Prospect, decide, recipient_key
from orchestrator.suppression.repository import suppressed_numbers


@dataclass
class Screening:
    # Those the gate holds back (to skip, or to defer), in the candidates' order.
    held: list[GateDecision] = field(default_factory=list)
    # Attempts each cleared number may still take now under the org's caps (a number missing
    # here has no such cap).
    attempts_left: dict[str, int] = field(default_factory=dict)

    def held_ids(self) -> set[uuid.UUID]:
        return {decision.prospect.id for decision in self.held}


def _history(
    session: Session,
    *,
    org_id: uuid.UUID,
    numbers: Collection[str],
    caps: Sequence[Cap],
    now: datetime,
) -> dict[str, list[Attempt]]:
    """The attempts to each of ``numbers`` the caps look back on, the imminent ones at ``now``."""
    history: dict[str, list[Attempt]] = {}
    if not numbers or not caps:
        return history
    rows = repository.attempts_since(
        session,
        org_id=org_id,
        numbers=numbers,
        since=now - longest_period(caps),
        channels=counted_channels(caps),
    )
    for number, campaign_id, sent_at, channel in rows:
        history.setdefault(number, []).append(Attempt(sent_at, campaign_id, channel=channel))
    for raw, campaign_id in repository.unsent_calls(session, org_id=org_id):
        key = recipient_key(raw)
        if key is not None and key in numbers:
            history.setdefault(key, []).append(Attempt(now, campaign_id, sent=False))
    return history


def screen(
    session: Session,
    *,
    org_id: uuid.UUID,
    caps: Sequence[Cap],
    prospects: Sequence[Prospect],
    now: datetime,
) -> Screening:
    """The gate's verdict on each candidate of a dispatch; only the held back are listed."""
    screening = Screening()
    numbers = {p.number for p in prospects if p.number is not None}
    if not numbers:
        return screening
    forms = {form for p in prospects for form in p.listed_as}
    listed = suppressed_numbers(session, org_id=org_id, numbers=forms, now=now)
    suppressed = {p.number for p in prospects if listed.intersection(p.listed_as)}
    every_cap = [*caps, *(cap for p in prospects for cap in p.subject_caps)]
    history = _history(
        session, org_id=org_id, numbers=numbers - suppressed, caps=every_cap, now=now
    )
    for prospect in prospects:
        attempts = history.get(prospect.number or "", [])
        decision = decide(
            prospect,
            suppressed=prospect.number in suppressed,
            caps=caps,
            attempts=attempts,
            now=now,
        )
        if not decision.clear:
            screening.held.append(decision)
        elif prospect.number is not None and prospect.number not in screening.attempts_left:
            left = attempts_left(caps, attempts, now=now)
            if left is not None:
                screening.attempts_left[prospect.number] = left
    return screening
