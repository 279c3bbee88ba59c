"""Counter reconciliation: drift is found, corrected exactly, counted and logged."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.service import CallEnding, move_call
from orchestrator.campaigns import reconcile
from orchestrator.campaigns.counter_repository import (
    RECONCILE_LOCK_SPACE,
    lock_counters_for_reconcile,
)
from orchestrator.campaigns.counters import counter_drift, recount_counters, stored_counters
from orchestrator.clock import utcnow
from orchestrator.metrics.service import counted
from orchestrator.models import CallStatus, Campaign, CampaignStatus
from orchestrator.models.campaign_counter_shard import COUNTER_COLUMNS
from orchestrator.orgs.service import CreatedOrg
from tests.factories import add_to_shard, dispatch_campaign, make_campaign
from tests.support.concurrency import counters_now


def _drift_metric() -> dict[str, float]:
    return {name: counted(reconcile.DRIFT_METRIC, counter=name) for name in COUNTER_COLUMNS}


def _metric_change(before: dict[str, float]) -> dict[str, float]:
    after = _drift_metric()
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def _campaign(session: Session, campaign_id: uuid.UUID) -> Campaign:
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    assert campaign is not None
    return campaign


# --- one campaign, in the test's transaction --------------------------------------------------


def test_an_exact_campaign_changes_nothing_and_counts_nothing(
    session: Session, org: CreatedOrg, caplog: pytest.LogCaptureFixture
) -> None:
    campaign_id = make_campaign(session, org=org, customers=4)
    dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=2)
    before, metric = stored_counters(session, campaign_id=campaign_id), _drift_metric()
    with caplog.at_level(logging.WARNING, logger=reconcile.__name__):
        assert reconcile.reconcile_campaign(session, campaign_id=campaign_id) == {}
    assert stored_counters(session, campaign_id=campaign_id) == before
    assert before["contacts_dispatched"] == 2
    assert _metric_change(metric) == {}
    assert caplog.records == []


def test_drift_in_a_shard_is_found_corrected_counted_and_logged(
    session: Session, org: CreatedOrg, caplog: pytest.LogCaptureFixture
) -> None:
    campaign_id = make_campaign(session, org=org, customers=3)
    add_to_shard(
        session, campaign_id=campaign_id, shard=7, contacts_completed=2, calls_counter_scheduled=-1
    )
    metric = _drift_metric()
    with caplog.at_level(logging.WARNING, logger=reconcile.__name__):
        drift = reconcile.reconcile_campaign(session, campaign_id=campaign_id)
    assert drift == {"contacts_completed": 2, "calls_counter_scheduled": -1}
    assert counter_drift(session, campaign=_campaign(session, campaign_id)) == {}
    assert stored_counters(session, campaign_id=campaign_id) == recount_counters(
        session, campaign_id=campaign_id
    )
    assert _metric_change(metric) == {"contacts_completed": 2, "calls_counter_scheduled": 1}
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert {record.levelno for record in caplog.records} == {logging.WARNING}
    completed = next(m for m in messages if "contacts_completed" in m)
    assert str(campaign_id) in completed
    assert "stored 2, recounted 0" in completed
    scheduled = next(m for m in messages if "calls_counter_scheduled" in m)
    assert "stored 2, recounted 3" in scheduled
    # Corrected once: a second pass finds nothing.
    assert reconcile.reconcile_campaign(session, campaign_id=campaign_id) == {}


def test_a_correction_that_leaves_nothing_pending_ends_the_campaign(
    session: Session, org: CreatedOrg
) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=5)
    add_to_shard(
        session, campaign_id=campaign_id, shard=3, contacts_pending=1
    )  # a phantom pending contact
    call = calls_repo.get_call_for_update(session, call_id=call_id)
    assert call is not None
    move_call(session, call, CallStatus.ENDED, ending=CallEnding(ended_reason="voicemail"))
    assert _campaign(session, campaign_id).status == CampaignStatus.IN_PROGRESS
    assert reconcile.reconcile_campaign(session, campaign_id=campaign_id) == {"contacts_pending": 1}
    campaign = _campaign(session, campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert campaign.calls_counter_ended_voicemail == 1


def test_reconciliation_refuses_repeatable_read(engine: Engine) -> None:
    """Its lock must come before its snapshot, which only READ COMMITTED guarantees."""
    with engine.connect() as connection:
        connection.execution_options(isolation_level="REPEATABLE READ")
        with (
            Session(bind=connection) as session,
            pytest.raises(RuntimeError, match="READ COMMITTED"),
        ):
            lock_counters_for_reconcile(session, campaign_id=uuid.uuid4())
        connection.rollback()


# --- concurrency (committed, separate connections) --------------------------------------------


def _committed_campaign_with_a_call(engine: Engine, org: CreatedOrg) -> tuple[uuid.UUID, uuid.UUID]:
    with Session(engine) as session:
        campaign_id = make_campaign(session, org=org, customers=3)
        (call_id,) = dispatch_campaign(
            session, campaign_id=campaign_id, now=utcnow(), batch_limit=1
        )
        add_to_shard(
            session,
            campaign_id=campaign_id,
            shard=11,
            contacts_failed=1,
            calls_counter_in_progress=-1,
        )
        session.commit()
    return campaign_id, call_id


def test_a_change_committed_between_recount_and_correction_is_kept(
    real_engine: Engine, committed_org: CreatedOrg
) -> None:
    """The correction is a delta from one snapshot: later changes stay on top of it.

    (Writing the recount as absolute values instead would erase the call that ended here.)
    """
    campaign_id, call_id = _committed_campaign_with_a_call(real_engine, committed_org)
    with Session(real_engine) as reconciler:
        lock_counters_for_reconcile(reconciler, campaign_id=campaign_id)
        drift = reconcile.measure_drift(reconciler, campaign_id=campaign_id)
        assert drift == {"contacts_failed": 1, "calls_counter_in_progress": -1}

        with Session(real_engine) as webhook:  # not held up by the reconciliation
            call = calls_repo.get_call_for_update(webhook, call_id=call_id)
            assert call is not None
            move_call(webhook, call, CallStatus.ENDED, ending=CallEnding(ended_reason="voicemail"))
            webhook.commit()

        reconcile.correct_drift(reconciler, campaign_id=campaign_id, drift=drift)
        reconciler.commit()

    counters = counters_now(real_engine, campaign_id)
    assert (counters.contacts_completed, counters.contacts_failed) == (1, 0)
    assert (counters.calls_counter_ended, counters.calls_counter_in_progress) == (1, 0)
    assert counters.calls_counter_queued == 0
    with Session(real_engine) as session:
        assert counter_drift(session, campaign=_campaign(session, campaign_id)) == {}


def _wait_for_a_blocked_advisory_lock(engine: Engine) -> None:
    waiting = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND classid = :space"
    )
    deadline = time.monotonic() + 10
    with engine.connect() as connection:
        while connection.scalar(waiting, {"space": RECONCILE_LOCK_SPACE}) == 0:
            assert time.monotonic() < deadline, "the second reconciliation never waited"
            connection.rollback()
            time.sleep(0.02)


def test_two_reconciliations_at_once_correct_the_drift_once(
    real_engine: Engine, committed_org: CreatedOrg
) -> None:
    campaign_id, _ = _committed_campaign_with_a_call(real_engine, committed_org)
    metric = _drift_metric()
    second: list[dict[str, int]] = []

    def reconcile_again() -> None:
        with Session(real_engine) as session:
            second.append(reconcile.reconcile_campaign(session, campaign_id=campaign_id))
            session.commit()

    with Session(real_engine) as first:
        assert reconcile.reconcile_campaign(first, campaign_id=campaign_id) == {
            "contacts_failed": 1,
            "calls_counter_in_progress": -1,
        }
        thread = threading.Thread(target=reconcile_again)
        thread.start()
        _wait_for_a_blocked_advisory_lock(real_engine)  # the second waits for the first
        assert thread.is_alive()
        first.commit()
    thread.join(timeout=10)
    assert second == [{}]
    assert _metric_change(metric) == {"contacts_failed": 1, "calls_counter_in_progress": 1}
    with Session(real_engine) as session:
        assert counter_drift(session, campaign=_campaign(session, campaign_id)) == {}
