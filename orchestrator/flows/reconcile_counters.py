"""The periodic counter reconciliation: every active and recently ended campaign recounted.

How one campaign is recounted and corrected exactly, while webhooks keep moving its counters,
is ``campaigns.reconcile``; this run only picks the campaigns and gives each a transaction of
its own. It is what the ``campaigns.reconcile`` task runs.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orchestrator.campaigns import repository
from orchestrator.campaigns.reconcile import reconcile_campaign
from orchestrator.clock import utcnow
from orchestrator.db import UnitOfWork, session_scope

logger = logging.getLogger(__name__)

# Ended campaigns stay under watch this long: calls in flight at a user's stop finish later.
RECENTLY_ENDED = timedelta(hours=1)
BATCH_SIZE = 100


@dataclass
class ReconcileRun:
    campaigns: int = 0
    drifted: dict[uuid.UUID, dict[str, int]] = field(default_factory=dict)
    failed: list[uuid.UUID] = field(default_factory=list)


def _reconcile_one(campaign_id: uuid.UUID, run: ReconcileRun, unit_of_work: UnitOfWork) -> None:
    try:
        with unit_of_work() as session:
            drift = reconcile_campaign(session, campaign_id=campaign_id)
    except Exception:
        logger.exception("reconciling campaign %s failed", campaign_id)
        run.failed.append(campaign_id)
        return
    run.campaigns += 1
    if drift:
        run.drifted[campaign_id] = drift


def reconcile_recent_campaigns(
    *,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    unit_of_work: UnitOfWork = session_scope,
) -> ReconcileRun:
    """The periodic job: active campaigns and those ended within the last hour.

    Campaigns are read in pages; each is reconciled in its own transaction, so a long run
    holds nothing for long and one failure does not stop the others.
    """
    ended_since = (now or utcnow()) - RECENTLY_ENDED
    run = ReconcileRun()
    after: uuid.UUID | None = None
    while True:
        with unit_of_work() as session:
            page = repository.campaigns_to_reconcile(
                session, ended_since=ended_since, after=after, limit=batch_size
            )
        for campaign_id in page:
            _reconcile_one(campaign_id, run, unit_of_work)
        if len(page) < batch_size:
            return run
        after = page[-1]
