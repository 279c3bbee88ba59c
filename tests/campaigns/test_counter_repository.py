"""Sharded campaign counters: exact sums, and writers that do not queue behind one row."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from orchestrator.campaigns.counter_repository import bump_counters, counters_of
from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Campaign, CampaignCounters, CampaignCounterShard
from orchestrator.models.campaign_counter_shard import COUNTER_COLUMNS, COUNTER_SHARDS
from orchestrator.orgs.service import CreatedOrg
from tests.factories import add_to_shard, campaign_body, make_campaign
from tests.support.concurrency import (
    connections_on_distinct_shards,
    connections_on_one_shard,
    counters_now,
    set_lock_timeout,
    shard_of,
)


def _shard_rows(session: Session, campaign_id: uuid.UUID) -> dict[int, dict[str, int]]:
    rows = session.execute(
        select(CampaignCounterShard).where(CampaignCounterShard.campaign_id == campaign_id)
    ).scalars()
    return {row.shard: {name: getattr(row, name) for name in COUNTER_COLUMNS} for row in rows}


# --- sums -------------------------------------------------------------------------------------


def test_counters_are_the_sums_over_every_shard(
    session: Session, api: TestClient, org: CreatedOrg, auth: dict[str, str]
) -> None:
    campaign_id = make_campaign(session, org=org, customers=3)
    # Shares of one campaign may be negative; only their sum means anything.
    add_to_shard(
        session, campaign_id=campaign_id, shard=3, contacts_pending=-2, contacts_dispatched=2
    )
    add_to_shard(
        session, campaign_id=campaign_id, shard=9, contacts_dispatched=-1, contacts_completed=1
    )
    add_to_shard(
        session, campaign_id=campaign_id, shard=15, calls_counter_ended=1, calls_counter_queued=-1
    )
    expected = CampaignCounters(
        calls_counter_scheduled=3,
        calls_counter_queued=-1,
        calls_counter_ended=1,
        contacts_pending=1,
        contacts_dispatched=1,
        contacts_completed=1,
    )
    assert counters_of(session, campaign_ids=[campaign_id]) == {campaign_id: expected}
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    assert campaign is not None
    assert (campaign.contacts_pending, campaign.contacts_dispatched) == (1, 1)
    body = api.get(f"/campaign/{campaign_id}", headers=auth).json()
    assert body["callsCounterScheduled"] == 3
    assert body["callsCounterEnded"] == 1
    assert body["contactCounters"] == {
        "pending": 1,
        "dispatched": 1,
        "completed": 1,
        "failed": 0,
        "skipped": 0,
        "predialFailed": 0,
        "total": 3,
    }
    listed = api.get("/campaign", headers=auth).json()["results"]
    assert [r["contactCounters"]["completed"] for r in listed] == [1]


def test_counters_of_many_campaigns_in_one_read(session: Session, org: CreatedOrg) -> None:
    first = make_campaign(session, org=org, customers=2)
    second = make_campaign(session, org=org, customers=5)
    unknown = uuid.uuid4()
    counters = counters_of(session, campaign_ids=[first, second, unknown])
    assert counters[first].contacts_pending == 2
    assert counters[second].contacts_pending == 5
    assert counters[unknown] == CampaignCounters()
    assert counters_of(session, campaign_ids=[]) == {}


def test_a_campaigns_counters_are_not_on_its_row(session: Session) -> None:
    """The old columns are gone: nothing can read a stale copy of the counters."""
    columns = set(Campaign.__table__.columns.keys())
    assert columns.isdisjoint(COUNTER_COLUMNS)
    assert "contacts_total" in columns
    with pytest.raises(TypeError, match="add_counter_shards"):
        Campaign(name="n", contacts_pending=3)


# --- writing ----------------------------------------------------------------------------------


def test_a_campaign_has_all_its_shard_rows_from_the_start(
    session: Session, org: CreatedOrg
) -> None:
    campaign_id = make_campaign(session, org=org, customers=4)
    rows = _shard_rows(session, campaign_id)
    assert sorted(rows) == list(range(COUNTER_SHARDS))
    assert rows[0]["contacts_pending"] == rows[0]["calls_counter_scheduled"] == 4
    assert all(not any(rows[shard].values()) for shard in range(1, COUNTER_SHARDS))


def test_a_transaction_writes_one_shard_row_chosen_by_its_backend(
    session: Session, org: CreatedOrg
) -> None:
    campaign_id = make_campaign(session, org=org, customers=4)
    before = _shard_rows(session, campaign_id)
    for _ in range(3):
        bump_counters(
            session,
            campaign_id=campaign_id,
            deltas={"contacts_pending": -1, "contacts_skipped": 1},
        )
    pid = session.scalar(select(func.pg_backend_pid()))
    assert pid is not None
    mine = pid % COUNTER_SHARDS
    after = _shard_rows(session, campaign_id)
    assert [shard for shard in after if after[shard] != before[shard]] == [mine]
    assert after[mine]["contacts_pending"] == before[mine]["contacts_pending"] - 3
    assert after[mine]["contacts_skipped"] == 3


def test_a_campaign_made_without_shard_rows_gets_them_on_first_bump(
    session: Session, org: CreatedOrg
) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    session.execute(
        delete(CampaignCounterShard).where(CampaignCounterShard.campaign_id == campaign_id)
    )
    bump_counters(session, campaign_id=campaign_id, deltas={"contacts_pending": 2})
    bump_counters(session, campaign_id=campaign_id, deltas={"contacts_pending": -1})
    assert len(_shard_rows(session, campaign_id)) == 1
    assert counters_of(session, campaign_ids=[campaign_id])[campaign_id].contacts_pending == 1


def test_unknown_counters_are_refused_and_zero_deltas_write_nothing(
    session: Session, org: CreatedOrg
) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    before = _shard_rows(session, campaign_id)
    with pytest.raises(KeyError):
        bump_counters(
            session, campaign_id=campaign_id, deltas={"contacts_pending": 1, "contacts_lost": 1}
        )
    bump_counters(session, campaign_id=campaign_id, deltas={"contacts_pending": 0})
    bump_counters(session, campaign_id=campaign_id, deltas={})
    assert _shard_rows(session, campaign_id) == before


def test_counters_stay_exact_through_a_campaigns_life(
    session: Session, api: TestClient, auth: dict[str, str]
) -> None:
    created = api.post("/campaign", json=campaign_body(customers=2), headers=auth).json()
    assert created["callsCounterScheduled"] == 2
    campaign = session.get(Campaign, uuid.UUID(created["id"]))
    assert campaign is not None
    assert counter_drift(session, campaign=campaign) == {}
    stopped = api.patch(f"/campaign/{created['id']}", json={"status": "ended"}, headers=auth)
    assert stopped.json()["contactCounters"]["skipped"] == 2
    assert counter_drift(session, campaign=campaign) == {}


# --- concurrency (committed, separate connections) --------------------------------------------


def _committed_campaign(engine: Engine, org: CreatedOrg, customers: int) -> uuid.UUID:
    with Session(engine) as session:
        campaign_id = make_campaign(session, org=org, customers=customers)
        session.commit()
    return campaign_id


def _bump_in(connection: Connection, campaign_id: uuid.UUID, **deltas: int) -> None:
    with Session(bind=connection, join_transaction_mode="rollback_only") as session:
        bump_counters(session, campaign_id=campaign_id, deltas=deltas)
        session.flush()


def _run_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            work(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def test_many_threads_bumping_one_campaign_end_exact(
    real_engine: Engine, committed_org: CreatedOrg
) -> None:
    campaign_id = _committed_campaign(real_engine, committed_org, customers=3)
    threads, rounds = 8, 25

    def work(_: int) -> None:
        for _ in range(rounds):
            with Session(real_engine) as session:
                bump_counters(
                    session,
                    campaign_id=campaign_id,
                    deltas={"calls_counter_ended": 1, "contacts_failed": 2},
                )
                session.commit()

    assert _run_threads(threads, work) == []
    counters = counters_now(real_engine, campaign_id)
    assert counters.calls_counter_ended == threads * rounds
    assert counters.contacts_failed == 2 * threads * rounds
    assert counters.contacts_pending == 3
    with Session(real_engine) as session:
        rows = _shard_rows(session, campaign_id).values()
    assert sum(1 for row in rows if row["calls_counter_ended"]) > 1  # spread, not one hot row


def test_open_transactions_hold_bumps_of_one_campaign_at_the_same_time(
    real_engine: Engine, committed_org: CreatedOrg
) -> None:
    """Eight writers each hold an uncommitted bump while the others write theirs: none waits.

    If bumps serialised on one row (the campaign's, or one shard), the second writer would
    block until the first committed, and the barrier (all eight holding at once) would break.
    """
    campaign_id = _committed_campaign(real_engine, committed_org, customers=2)
    writers = 8
    holding = threading.Barrier(writers + 1, timeout=10)
    with connections_on_distinct_shards(real_engine, writers) as connections:

        def work(index: int) -> None:
            connection = connections[index]
            set_lock_timeout(connection, 5000)
            _bump_in(connection, campaign_id, contacts_completed=1, contacts_pending=-1)
            holding.wait()  # everyone holds an uncommitted bump now
            holding.wait()  # the campaign row was free meanwhile
            connection.commit()

        done: list[list[BaseException]] = []
        runner = threading.Thread(target=lambda: done.append(_run_threads(writers, work)))
        runner.start()
        holding.wait()
        with real_engine.connect() as other:
            # Nobody holds the campaign row: counter writers never touch it.
            locked = other.execute(
                text("SELECT id FROM campaigns WHERE id = :id FOR UPDATE NOWAIT"),
                {"id": campaign_id},
            ).all()
            assert len(locked) == 1
            other.rollback()
        holding.wait()
        runner.join(timeout=30)
    assert done == [[]]
    counters = counters_now(real_engine, campaign_id)
    assert (counters.contacts_completed, counters.contacts_pending) == (writers, 2 - writers)


def test_a_writer_on_the_same_shard_waits_which_the_tests_above_would_catch(
    real_engine: Engine, committed_org: CreatedOrg
) -> None:
    """The control: two transactions that do share a shard row serialise on it."""
    campaign_id = _committed_campaign(real_engine, committed_org, customers=1)
    with connections_on_one_shard(real_engine) as (first, second):
        assert shard_of(first) == shard_of(second)
        _bump_in(first, campaign_id, contacts_failed=1)
        set_lock_timeout(second, 200)
        with pytest.raises(OperationalError, match="lock timeout"):
            _bump_in(second, campaign_id, contacts_failed=1)
        second.rollback()
        first.commit()
    assert counters_now(real_engine, campaign_id).contacts_failed == 1
