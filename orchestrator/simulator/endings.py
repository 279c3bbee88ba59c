"""How a call ends: played out to its decided outcome, or cut off by a stop of the simulator.

A cut-off call (see ``journal``) that had been answered ends ``customer-ended-call`` and costs
the talk time it had; one that had not ends ``customer-did-not-answer`` at no cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestrator.simulator.outcomes import (
    CONCURRENCY_LIMIT_REACHED,
    CUSTOMER_ENDED,
    NO_ANSWER,
    Outcome,
    summarize,
    talk_cost,
)
from orchestrator.simulator.records import CallRecord

ANSWERED_STATUSES = frozenset({"in-progress", "forwarding"})


@dataclass(frozen=True, slots=True)
class Ending:
    """How a call ends: the fields ``end`` sets besides the time."""

    reason: str
    cost: float
    analysis: dict[str, Any]
    artifact: dict[str, Any]


def ending(outcome: Outcome | None) -> Ending:
    """The end of a call played out to its decided outcome (None: refused by the limit)."""
    if outcome is None:
        analysis = {
            "summary": "The call was not started: the concurrency limit was reached.",
            "successEvaluation": "false",
        }
        return Ending(CONCURRENCY_LIMIT_REACHED, 0.0, analysis, {"transcript": "", "messages": []})
    analysis, transcript = summarize(outcome)
    artifact = {"transcript": transcript, "messages": []}
    return Ending(outcome.ended_reason, outcome.cost, analysis, artifact)


def cut_off(record: CallRecord, ended_at: datetime) -> Ending:
    """The end of a call the simulator stopped in the middle of (see ``journal``)."""
    if record.outcome is None:
        # Refused by the limit, it was never dialed: it ends as it would have.
        return ending(None)
    summary = f"The call was cut off: the simulator stopped while it was {record.status}."
    analysis = {"summary": summary, "successEvaluation": "false"}
    artifact: dict[str, Any] = {"transcript": "", "messages": []}
    if record.status not in ANSWERED_STATUSES:
        return Ending(NO_ANSWER, 0.0, analysis, artifact)
    started = record.started_at or ended_at
    talk = max(0.0, (ended_at - started).total_seconds())
    return Ending(CUSTOMER_ENDED, talk_cost(talk), analysis, artifact)
