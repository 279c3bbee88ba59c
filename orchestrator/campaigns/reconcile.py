"""Counter reconciliation: recount a campaign from its rows and correct any drift exactly.

Drift should never happen (every change of a contact or call moves its counters in the same
transaction); reconciliation proves it, and repairs what a bug or a manual edit left behind.
Every drifted counter is counted in ``orchestrator_counter_drift`` and logged.

Why this is exact while webhooks keep moving the counters:

* The recount and the stored sums are read by one statement, so from one snapshot. Every
  transaction that changes rows moves their counters in the same transaction, so at that
  snapshot ``stored - recounted`` is exactly the drift: committed work is in both sides,
  uncommitted work in neither.
* The correction is a delta (``-drift``) added like any other bump, not an absolute value.
  Transactions committing after the snapshot add their own correct deltas on top, so the
  sum stays ``recount + later changes``: nothing they did is overwritten, and counter
  writers never wait for reconciliation (it takes no lock they take).
* Reconciliations of one campaign run one at a time (a transaction advisory lock taken
  before the snapshot, at READ COMMITTED): a second one sees the first one's correction and
  finds nothing left to correct, instead of applying the same correction twice.

A REPEATABLE READ transaction would give the snapshot too, but its snapshot would begin
before the lock, and its correction could fail on a shard row a webhook just wrote: the
single-statement read at READ COMMITTED needs neither retries nor a special session.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.orm import Session

from orchestrator.campaigns import counter_repository, repository
from orchestrator.campaigns.counters import CounterDeltas, counters_and_recount, drift_between
from orchestrator.metrics.service import count

logger = logging.getLogger(__name__)

DRIFT_METRIC = "orchestrator_counter_drift"


def measure_drift(session: Session, *, campaign_id: uuid.UUID) -> dict[str, int]:
    """Stored minus recounted, per drifted counter, from one snapshot (empty when exact)."""
    stored, recounted = counters_and_recount(session, campaign_id=campaign_id)
    drift = drift_between(stored, recounted)
    for name, delta in drift.items():
        logger.warning(
            "counter drift: campaign %s %s stored %d, recounted %d (corrected by %+d)",
            campaign_id,
            name,
            stored[name],
            recounted[name],
            -delta,
        )
    return drift


def correct_drift(session: Session, *, campaign_id: uuid.UUID, drift: dict[str, int]) -> None:
    """Take ``drift`` out of the counters, as one delta, and count it."""
    if not drift:
        return
    counter_repository.bump_counters(session, campaign_id=campaign_id, deltas=-CounterDeltas(drift))
    for name, delta in drift.items():
        count(DRIFT_METRIC, abs(delta), counter=name)
    # The correction may have been all that kept a finished campaign from ending.
    repository.finish_if_done(session, campaign_id=campaign_id)


def reconcile_campaign(session: Session, *, campaign_id: uuid.UUID) -> dict[str, int]:
    """Recount, correct the drift found, and return it (stored minus recounted, per counter).

    Runs in the caller's transaction, which must be READ COMMITTED (the default).
    """
    counter_repository.lock_counters_for_reconcile(session, campaign_id=campaign_id)
    drift = measure_drift(session, campaign_id=campaign_id)
    correct_drift(session, campaign_id=campaign_id, drift=drift)
    return drift
