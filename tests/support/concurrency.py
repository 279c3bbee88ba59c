"""Helpers for tests that need committed data and several real connections at once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from orchestrator.campaigns.counter_repository import counters_of
from orchestrator.models import Campaign, CampaignCounters, Org
from orchestrator.models.campaign_counter_shard import COUNTER_SHARDS


def shard_of(connection: Connection) -> int:
    """The shard row ``bump_counters`` writes from this connection."""
    pid = connection.scalar(select(func.pg_backend_pid()))
    assert pid is not None
    return int(pid) % COUNTER_SHARDS


@contextmanager
def connections_on_distinct_shards(engine: Engine, count: int) -> Iterator[list[Connection]]:
    """``count`` open connections whose bumps go to ``count`` different shard rows."""
    chosen: dict[int, Connection] = {}
    spare: list[Connection] = []
    try:
        while len(chosen) < count:
            connection = engine.connect()
            shard = shard_of(connection)
            if shard in chosen:
                spare.append(connection)
            else:
                chosen[shard] = connection
            connection.rollback()
        for connection in spare:
            connection.close()
        spare = []
        yield list(chosen.values())
    finally:
        for connection in [*chosen.values(), *spare]:
            connection.close()


@contextmanager
def connections_on_one_shard(engine: Engine) -> Iterator[tuple[Connection, Connection]]:
    """Two open connections whose bumps go to the same shard row (a pigeonhole: at most 17)."""
    opened: list[Connection] = []
    by_shard: dict[int, Connection] = {}
    try:
        while True:
            connection = engine.connect()
            opened.append(connection)
            shard = shard_of(connection)
            connection.rollback()
            if shard in by_shard:
                yield by_shard[shard], connection
                return
            by_shard[shard] = connection
    finally:
        for connection in opened:
            connection.close()


def set_lock_timeout(connection: Connection, milliseconds: int) -> None:
    """Within the connection's current transaction: fail instead of waiting longer for a lock."""
    connection.execute(text(f"SET LOCAL lock_timeout = '{int(milliseconds)}ms'"))


def counters_now(engine: Engine, campaign_id: uuid.UUID) -> CampaignCounters:
    with Session(engine) as session:
        return counters_of(session, campaign_ids=[campaign_id])[campaign_id]


def campaign_now(engine: Engine, campaign_id: uuid.UUID) -> Campaign:
    with Session(engine, expire_on_commit=False) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        session.expunge(campaign)
        return campaign


def delete_org(engine: Engine, org_id: uuid.UUID) -> None:
    """Everything a committed test wrote goes with its org (foreign keys cascade)."""
    with Session(engine) as session:
        session.execute(delete(Org).where(Org.id == org_id))
        session.commit()
