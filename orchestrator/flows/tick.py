"""One scheduler tick: close windows, then dispatch every due org in its own transaction.

Tasks are sent only after each transaction commits, so a task never sees a row that is not
there yet.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import redis

from orchestrator.calls import repository as calls_repo
from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.db import UnitOfWork, session_scope
from orchestrator.pacing.service import ensure_pacing_state, pacing_limiter
from orchestrator.predial.selection import CheckToSend
from orchestrator.scheduling.direct_dispatch import expire_direct_calls
from orchestrator.scheduling.service import DispatchResult, dispatch_org
from orchestrator.scheduling.window import close_window

logger = logging.getLogger(__name__)

EnqueueCalls = Callable[[Sequence[uuid.UUID]], None]
EnqueueChecks = Callable[[Sequence[CheckToSend]], None]
EnqueueTexts = Callable[[Sequence[uuid.UUID]], None]
# A claimed call whose task has not placed it by then lost its message (a broker restart):
# it is sent again, safely, since only one delivery can win the call's compare-and-set.
STALE_CLAIM_AFTER = timedelta(seconds=60)


def dispatch_org_now(
    org_id: uuid.UUID,
    *,
    enqueue: EnqueueCalls,
    enqueue_checks: EnqueueChecks | None = None,
    enqueue_texts: EnqueueTexts | None = None,
    now: datetime | None = None,
    unit_of_work: UnitOfWork = session_scope,
) -> DispatchResult:
    """Dispatch one org, then send its calls and its pre-dial checks (without
    ``enqueue_checks`` the checks started are not sent: their leases lapse and they are
    started again by a dispatch that sends them; without ``enqueue_texts`` the texts queued
    wait for the text dispatcher's sweep)."""
    with unit_of_work() as session:
        result = dispatch_org(
            session,
            org_id=org_id,
            now=now or utcnow(),
            batch_limit=get_settings().dispatch_batch_limit,
        )
    if result.call_ids:
        enqueue(result.call_ids)
    if result.checks and enqueue_checks is not None:
        enqueue_checks(result.checks)
    if result.text_ids and enqueue_texts is not None:
        enqueue_texts(result.text_ids)
    return result


def close_windows(*, now: datetime, unit_of_work: UnitOfWork = session_scope) -> int:
    with unit_of_work() as session:
        campaign_ids = campaigns_repo.campaigns_past_latest_at(session, now=now)
    closed = 0
    for campaign_id in campaign_ids:
        with unit_of_work() as session:
            closed += close_window(session, campaign_id=campaign_id, now=now)
    with unit_of_work() as session:
        closed += expire_direct_calls(session, now=now)
    return closed


def redrive_stale_claims(
    *, enqueue: EnqueueCalls, now: datetime, unit_of_work: UnitOfWork = session_scope
) -> int:
    with unit_of_work() as session:
        call_ids = calls_repo.stale_claimed_call_ids(session, before=now - STALE_CLAIM_AFTER)
    if call_ids:
        logger.warning("sending %d claimed calls again: their tasks were lost", len(call_ids))
        enqueue(call_ids)
    return len(call_ids)


def check_pacing_state(*, now: datetime, unit_of_work: UnitOfWork = session_scope) -> bool:
    try:
        with unit_of_work() as session:
            return ensure_pacing_state(session, pacing_limiter(), now=now)
    except redis.RedisError as error:
        logger.warning("pacing state unreadable, calls wait: %s", error)
        return False


def end_finished_campaigns(*, unit_of_work: UnitOfWork = session_scope) -> list[uuid.UUID]:
    """End campaigns whose last calls ended in concurrent transactions.

    Each of those transactions saw the other's counters uncommitted, so none of them ended
    the campaign; this sees them all committed. It runs every tick, so such a campaign ends
    within one tick of its last call.
    """
    with unit_of_work() as session:
        ended = campaigns_repo.finish_done_campaigns(session)
    if ended:
        logger.info("ended %d finished campaigns: %s", len(ended), ended)
    return ended


def run_tick(
    *,
    enqueue: EnqueueCalls,
    enqueue_checks: EnqueueChecks | None = None,
    enqueue_texts: EnqueueTexts | None = None,
    now: datetime | None = None,
    unit_of_work: UnitOfWork = session_scope,
) -> list[DispatchResult]:
    moment = now or utcnow()
    check_pacing_state(now=moment, unit_of_work=unit_of_work)
    close_windows(now=moment, unit_of_work=unit_of_work)
    end_finished_campaigns(unit_of_work=unit_of_work)
    redrive_stale_claims(enqueue=enqueue, now=moment, unit_of_work=unit_of_work)
    with unit_of_work() as session:
        org_ids = set(campaigns_repo.due_org_ids(session, now=moment))
        org_ids.update(calls_repo.orgs_with_due_direct_calls(session, now=moment))
    return [
        dispatch_org_now(
            org_id,
            enqueue=enqueue,
            enqueue_checks=enqueue_checks,
            enqueue_texts=enqueue_texts,
            now=moment,
            unit_of_work=unit_of_work,
        )
        for org_id in sorted(org_ids)
    ]
