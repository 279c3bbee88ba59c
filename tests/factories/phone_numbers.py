"""Caller phone numbers and their pacing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from orchestrator.orgs.service import CreatedOrg
from orchestrator.phone_numbers.repository import upsert_pacing


def fast_caller_number(
    session: Session,
    *,
    org: CreatedOrg,
    caller_number_id: str = "phone-1",
    calls_per_second: float = 1000,
    max_concurrency: int | None = None,
) -> None:
    """A caller number whose rate never binds, unless the test sets one."""
    upsert_pacing(
        session,
        org_id=org.org_id,
        provider_id=caller_number_id,
        calls_per_second=calls_per_second,
        max_concurrency=max_concurrency,
    )
