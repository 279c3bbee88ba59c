"""One scheduler tick: every due campaign dispatched in its own transaction, tasks sent after."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.config import get_settings
from orchestrator.db import session_scope
from orchestrator.models.base import utcnow
from orchestrator.scheduling.service import DispatchResult, dispatch_campaign

logger = logging.getLogger(__name__)

EnqueueCalls = Callable[[Sequence[uuid.UUID]], None]


def dispatch_one(
    campaign_id: uuid.UUID, *, enqueue: EnqueueCalls, now: datetime | None = None
) -> DispatchResult:
    with session_scope() as session:
        result = dispatch_campaign(
            session,
            campaign_id=campaign_id,
            now=now or utcnow(),
            batch_limit=get_settings().dispatch_batch_limit,
        )
    if result.call_ids:
        enqueue(result.call_ids)
    if result.finished:
        logger.info("campaign %s ended: every contact is done", campaign_id)
    return result


def run_tick(*, enqueue: EnqueueCalls, now: datetime | None = None) -> list[DispatchResult]:
    moment = now or utcnow()
    with session_scope() as session:
        campaign_ids = campaigns_repo.due_campaign_ids(session, now=moment)
    return [dispatch_one(cid, enqueue=enqueue, now=moment) for cid in campaign_ids]
