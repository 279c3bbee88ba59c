"""One pre-dial check: start it, ask the campaign's server, apply the verdict.

No transaction is open while the server is asked: the contact's lease is what holds the
check, so a slow server holds no row lock, no dial worker, no rate slot and none of the
org's capacity (the contact is not claimed until it is cleared). A worker killed mid-check
loses nothing: the lease lapses and the contact is asked again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache

import httpx

from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.db import UnitOfWork, session_scope
from orchestrator.metrics.service import count
from orchestrator.predial.service import StartedCheck, apply_verdict, begin_check
from orchestrator.predial.verdicts import Outcome, Verdict, VerdictKind, verdict_of
from orchestrator.user_servers.sending import ServerAnswer, ServerTarget, post_to_server

logger = logging.getLogger(__name__)

EnqueueDispatch = Callable[[uuid.UUID], None]


@lru_cache(maxsize=1)
def predial_client() -> httpx.Client:
    """One connection pool per process; each request sets its own timeout."""
    return httpx.Client(trust_env=False)


def ask_server(check: StartedCheck, *, client: httpx.Client) -> ServerAnswer:
    if check.plan.url is None:
        return ServerAnswer(error="the campaign has no server.url")
    target = ServerTarget(
        url=check.plan.url, headers=check.plan.headers, timeout_seconds=check.plan.timeout_seconds
    )
    return post_to_server(
        client,
        target,
        body=check.body,
        timestamp=check.timestamp,
        secret=check.secret,
        allow_private=get_settings().allow_private_server_urls,
    )


def check_contact(
    contact_id: uuid.UUID,
    lease_until: datetime,
    *,
    enqueue_dispatch: EnqueueDispatch,
    unit_of_work: UnitOfWork = session_scope,
    client: httpx.Client | None = None,
) -> Outcome:
    """Run the check leased until ``lease_until``; a cleared contact has its org dispatched
    at once rather than at the next tick."""
    with unit_of_work() as session:
        check = begin_check(session, contact_id=contact_id, lease_until=lease_until, now=utcnow())
    if check is None:
        return Outcome.IGNORED
    answer = ask_server(check, client=client or predial_client())
    verdict = verdict_of(answer)
    with unit_of_work() as session:
        outcome = apply_verdict(session, check=check, verdict=verdict, now=utcnow())
    _log(check, verdict, outcome)
    if outcome == Outcome.CLEARED:
        enqueue_dispatch(check.org_id)
    return outcome


def _log(check: StartedCheck, verdict: Verdict, outcome: Outcome) -> None:
    count("orchestrator_predial_checks", verdict=verdict.kind.value, outcome=outcome.value)
    if verdict.kind == VerdictKind.ERROR:
        logger.warning(
            "pre-dial check of contact %s (campaign %s) failed: %s; %s",
            check.contact_id,
            check.campaign_id,
            verdict.error,
            outcome.value,
        )
