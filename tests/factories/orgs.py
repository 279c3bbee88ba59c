"""Orgs, with their API key, as ``orchestrator org create`` makes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from orchestrator.models import Org
from orchestrator.orgs.service import CreatedOrg, create_org
from orchestrator.policy.schemas import PolicyIn


def make_org(
    session: Session,
    *,
    name: str = "acme",
    concurrency_limit: int = 10,
    policy: dict[str, Any] | None = None,
) -> CreatedOrg:
    """An org; ``policy`` (``PUT /policy``'s body, e.g. ``{"callingHoursProfile": "us-tcpa"}``)
    is checked and stored as that endpoint would."""
    created = create_org(session, name=name, concurrency_limit=concurrency_limit)
    if policy is not None:
        org = session.get(Org, created.org_id)
        assert org is not None
        org.policy = PolicyIn.model_validate(policy).model_dump(by_alias=True, mode="json")
        session.flush()
    return created
