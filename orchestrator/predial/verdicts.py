"""What a pre-dial answer says, and what it does to the contact's attempt.

Only a 2xx whose body is a JSON object with a JSON boolean ``eligible`` is a verdict (Vapi's
``ServerMessageResponseCampaignPredial``); ``"true"``, ``1`` or ``null`` are not. Anything
else is an error, which the plan's ``onError`` turns into an outcome.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from orchestrator.predial.plan import OnError, PredialPlan
from orchestrator.user_servers.sending import ServerAnswer


class VerdictKind(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not-eligible"
    ERROR = "error"


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    error: str | None = None


class Outcome(StrEnum):
    """What a verdict did to its contact."""

    CLEARED = "cleared"  # may be claimed for this attempt
    REFUSED = "refused"  # skipped
    FAILED = "failed"  # predial-failed
    RETRY_LATER = "retry-later"  # asked again after a backoff
    IGNORED = "ignored"  # the check was no longer current: recorded, nothing changed


def verdict_of(answer: ServerAnswer) -> Verdict:
    if not answer.ok:
        return Verdict(VerdictKind.ERROR, answer.describe())
    try:
        body = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError):
        return Verdict(VerdictKind.ERROR, "the answer is not JSON")
    eligible = body.get("eligible") if isinstance(body, dict) else None
    if eligible is True:
        return Verdict(VerdictKind.ELIGIBLE)
    if eligible is False:
        return Verdict(VerdictKind.NOT_ELIGIBLE)
    return Verdict(VerdictKind.ERROR, "the answer has no boolean eligible")


def outcome_of(verdict: Verdict, *, plan: PredialPlan, errors_so_far: int) -> Outcome:
    """``errors_so_far``: checks of this attempt that already failed and were asked again."""
    if verdict.kind == VerdictKind.ELIGIBLE:
        return Outcome.CLEARED
    if verdict.kind == VerdictKind.NOT_ELIGIBLE:
        return Outcome.REFUSED
    if plan.on_error == OnError.DIAL:
        return Outcome.CLEARED
    if plan.on_error == OnError.RETRY and errors_so_far < plan.max_error_retries:
        return Outcome.RETRY_LATER
    return Outcome.FAILED
