"""An org's compliance policy (``GET /policy``, ``PUT /policy``): stored whole, read back with
its defaults. The gate reads it through ``policy_of`` at every claim and send, so a change
applies from the next one."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.policy import repository
from orchestrator.policy.schemas import PolicyIn, policy_of


def policy_to_wire(policy: PolicyIn) -> dict[str, Any]:
    """Every field, defaults included; an opt-out plan with the keys it was given."""
    plan = policy.opt_out_plan
    return {
        "frequencyCaps": [
            {
                "maxAttempts": cap.max_attempts,
                "periodSeconds": cap.period_seconds,
                "channels": cap.channels,
            }
            for cap in policy.frequency_caps
        ],
        "callingHoursProfile": policy.calling_hours_profile,
        "optOutPlan": plan.model_dump(by_alias=True, exclude_none=True) if plan else None,
    }


def get_policy(session: Session, *, org_id: uuid.UUID) -> dict[str, Any]:
    org = repository.get_org(session, org_id=org_id)
    return policy_to_wire(policy_of(org) if org is not None else PolicyIn())


def put_policy(session: Session, *, org_id: uuid.UUID, body: PolicyIn) -> dict[str, Any]:
    """Replace the org's policy with ``body`` (fields left out take their defaults)."""
    stored = body.model_dump(by_alias=True, exclude_none=True)
    repository.store_policy(session, org_id=org_id, policy=stored)
    return policy_to_wire(PolicyIn.model_validate(stored))
