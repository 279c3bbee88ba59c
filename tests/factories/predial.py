"""Campaigns with pre-dial checks, and the checks a dispatch starts run as a worker would."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.flows.predial import check_contact
from orchestrator.orgs.service import CreatedOrg
from orchestrator.predial.selection import CheckToSend
from orchestrator.predial.verdicts import Outcome
from orchestrator.scheduling.service import DispatchResult, dispatch_org
from tests.factories.campaigns import make_campaign
from tests.factories.flows import unit_of
from tests.factories.phone_numbers import fast_caller_number


def predial_campaign(
    session: Session,
    *,
    org: CreatedOrg,
    url: str,
    timeout_seconds: float | None = None,
    predial_plan: dict[str, Any] | None = None,
    **body: Any,
) -> uuid.UUID:
    """A campaign whose every attempt is checked by the server at ``url``."""
    server: dict[str, Any] = {"url": url, "headers": {"x-crm-key": "crm-secret"}}
    if timeout_seconds is not None:
        server["timeoutSeconds"] = timeout_seconds
    fast_caller_number(session, org=org, caller_number_id=body.get("phone_number_id", "phone-1"))
    return make_campaign(
        session, org=org, server=server, predialPlan=predial_plan or {"enabled": True}, **body
    )


def dispatch_now(
    session: Session, *, org: CreatedOrg, now: datetime | None = None
) -> DispatchResult:
    return dispatch_org(session, org_id=org.org_id, now=now or utcnow(), batch_limit=500)


def run_checks(
    session: Session, checks: list[CheckToSend], *, dispatched: list[uuid.UUID] | None = None
) -> list[Outcome]:
    """Each check run by the flow inside the test's transaction, one after the other."""
    sink = dispatched if dispatched is not None else []
    return [
        check_contact(
            check.contact_id,
            check.lease_until,
            enqueue_dispatch=sink.append,
            unit_of_work=unit_of(session),
        )
        for check in checks
    ]
