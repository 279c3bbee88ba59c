"""What the provider reports of a call means for it: the same end state in any order.

Status only moves forward and terminal states are sticky (``move_call``); the ``ended``
status update and the end-of-call report merge (whichever comes first ends the call, the
report adds its details); the start time is the earliest reported, the end time the latest.
The reports are plain data: reading them out of the provider's messages is not done here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.calls.service import CallBatch, CallEnding, move_call
from orchestrator.models import Call, CallStatus

# The statuses a provider reports; ours (scheduled, claimed, dialing, failed) never come from it.
PROVIDER_STATUSES = frozenset(
    {
        CallStatus.QUEUED,
        CallStatus.RINGING,
        CallStatus.IN_PROGRESS,
        CallStatus.FORWARDING,
        CallStatus.ENDED,
    }
)


@dataclass(frozen=True)
class StatusReport:
    """The call's status at the provider, and the times and reason it gave with it."""

    status: CallStatus
    # Its times count whatever the status; its reason only with ``ended``.
    ending: CallEnding


@dataclass(frozen=True)
class EndOfCallReport:
    """The call is over: how it ended, what it cost, and the provider's analysis of it."""

    ending: CallEnding
    cost: float | None = None
    analysis: dict[str, Any] | None = None
    # It carried a cost or an analysis, usable or not: the report counts as a change.
    has_details: bool = False


def apply_status_report(
    session: Session, *, call: Call, report: StatusReport, batch: CallBatch
) -> bool:
    """Move ``call`` (locked by the caller) to the reported status; False if nothing changed."""
    if report.status not in PROVIDER_STATUSES:
        return False
    before = (call.started_at, call.ended_at)
    ending = report.ending if report.status == CallStatus.ENDED else None
    moved = move_call(session, call, report.status, ending=ending, batch=batch)
    _merge_times(call, report.ending)
    return moved or before != (call.started_at, call.ended_at)


def apply_end_of_call_report(
    session: Session, *, call: Call, report: EndOfCallReport, batch: CallBatch
) -> bool:
    """The report ends the call if the ``ended`` status update has not, and adds its details."""
    moved = move_call(session, call, CallStatus.ENDED, ending=report.ending, batch=batch)
    _merge_times(call, report.ending)
    if report.cost is not None:
        call.cost = report.cost
    if report.analysis is not None:
        call.analysis = report.analysis
        summary = report.analysis.get("summary")
        call.summary = summary if isinstance(summary, str) else call.summary
    return moved or report.has_details


def _merge_times(call: Call, ending: CallEnding) -> None:
    """The earliest reported start and the latest reported end: the same in any order."""
    if ending.started_at and (call.started_at is None or ending.started_at < call.started_at):
        call.started_at = ending.started_at
    if ending.ended_at and (call.ended_at is None or ending.ended_at > call.ended_at):
        call.ended_at = ending.ended_at
