"""Opt-outs heard in conversation: an end-of-call report that says the customer asked not to
be called again puts the number on the org's suppression list, in the transaction that
applies the report.

What counts as an opt-out is the campaign's ``optOutPlan`` extension, else the org's (its
policy); a direct call follows the org's. The entry's source is our call id (``calls.id``,
not the provider's), so a listing says which call heard it. An opt-out is the strongest
reason: over a live entry of another reason it takes the entry over, and makes it permanent
(``repository.ON_CONFLICT``).

Lock order: the applier holds its calls' and contacts' row locks when it gets here, then
takes each org's ``wait_for_sends`` (in org id order, so two appliers never wait on each
other). A send holds that lock shared without locking any row while it does, so it never
waits on the applier: the wait ends when the sends in flight are answered.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from orchestrator.policy.schemas import OptOutPlanIn, PolicyIn
from orchestrator.suppression import repository
from orchestrator.suppression.gate_lock import wait_for_sends
from orchestrator.suppression.numbers import lookup_forms
from orchestrator.suppression.schemas import SuppressionReason

OPT_OUT_PLAN_EXTENSION = "optOutPlan"


@dataclass(frozen=True)
class EndedCall:
    """What an applied end-of-call report told of one call."""

    call_id: uuid.UUID
    org_id: uuid.UUID
    campaign_id: uuid.UUID | None
    ended_reason: str | None
    analysis: Mapping[str, Any] | None


def plan_of(
    campaign_extensions: Mapping[str, Any] | None, org_policy: Mapping[str, Any] | None
) -> OptOutPlanIn | None:
    """The campaign's plan, else the org's; None when neither has one (or it no longer reads)."""
    stored = (campaign_extensions or {}).get(OPT_OUT_PLAN_EXTENSION)
    try:
        if stored is not None:
            return OptOutPlanIn.model_validate(stored)
        return PolicyIn.model_validate(org_policy or {}).opt_out_plan
    except ValidationError:
        return None


def is_opt_out(
    plan: OptOutPlanIn, *, ended_reason: str | None, analysis: Mapping[str, Any] | None
) -> bool:
    if plan.ended_reasons and ended_reason in plan.ended_reasons:
        return True
    if plan.structured_data_key is None or analysis is None:
        return False
    structured = analysis.get("structuredData")
    return isinstance(structured, Mapping) and structured.get(plan.structured_data_key) is True


def _listed_number(number: str | None) -> str | None:
    """The number in canonical E.164; one that is no valid number but shaped like E.164 (a
    call can go to it when the E.164 check is off) as it is written, as the gate finds it."""
    forms = lookup_forms(number) if number else []
    return forms[0] if forms else None


def opted_out(session: Session, *, ended: Sequence[EndedCall]) -> list[tuple[uuid.UUID, str, str]]:
    """(org, number, call id) of each call whose report matches its plan."""
    org_ids = {call.org_id for call in ended}
    campaign_ids = {call.campaign_id for call in ended if call.campaign_id is not None}
    policies, extensions = repository.opt_out_settings(
        session, org_ids=org_ids, campaign_ids=campaign_ids
    )
    matched = []
    for call in ended:
        own = extensions.get(call.campaign_id) if call.campaign_id is not None else None
        plan = plan_of(own, policies.get(call.org_id))
        if plan is not None and is_opt_out(
            plan, ended_reason=call.ended_reason, analysis=call.analysis
        ):
            matched.append(call)
    if not matched:
        return []
    # Read only for the calls that heard one: the applier loads calls without their customer.
    numbers = repository.customer_numbers(session, call_ids=[call.call_id for call in matched])
    heard = []
    for call in matched:
        number = _listed_number(numbers.get(call.call_id))
        if number is not None:
            heard.append((call.org_id, number, str(call.call_id)))
    return heard


def record_opt_outs(
    session: Session,
    *,
    ended: Sequence[EndedCall],
    now: datetime,
    heard_in_texts: Sequence[tuple[uuid.UUID, str, str]] = (),
) -> int:
    """Put the numbers of the calls that heard an opt-out on their orgs' lists, and the
    (org, number, source) opt-outs heard in texts (``text_opt_outs``: they take no entry
    over), every org locked in one order first; how many new."""
    heard = opted_out(session, ended=ended) if ended else []
    if not heard and not heard_in_texts:
        return 0
    for org_id in sorted({org_id for org_id, _, _ in [*heard, *heard_in_texts]}):
        wait_for_sends(session, org_id=org_id)
    reason = str(SuppressionReason.OPT_OUT)
    added = repository.add_opt_outs(session, heard=heard, reason=reason, now=now)
    return added + repository.add_opt_outs(
        session, heard=heard_in_texts, reason=reason, now=now, takes_over=False
    )
