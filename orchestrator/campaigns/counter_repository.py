"""Queries for campaign counters, the only writer of their shard rows.

Which counters a change moves is decided in ``campaigns.counters``; here they are written
and summed without naming one: every counter is a column of ``campaign_counter_shards``.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import BigInteger, ColumnElement, ScalarSelect, Table, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import InstrumentedAttribute, Session

from orchestrator.models import Call, CallStatus, CampaignCounters, CampaignCounterShard, Contact
from orchestrator.models.campaign_counter_shard import COUNTER_COLUMNS, COUNTER_SHARDS

# Advisory lock space of reconciliation (two-key form; the scheduler's org locks use 2).
RECONCILE_LOCK_SPACE = 5


# The shard a transaction writes: its backend's pid modulo the shard count. Concurrent
# transactions run on different backends, so they spread over the shards; two of them share
# a row only when their pids agree modulo 16. It is also the same row for every bump of one
# transaction: a transaction holds at most one shard row of a campaign, so two transactions
# can never lock two shard rows in opposite orders (a random shard per bump could deadlock
# two transactions that each bump twice).
_THIS_TRANSACTIONS_SHARD = func.pg_backend_pid() % COUNTER_SHARDS


def _nonzero_deltas(deltas: Mapping[str, int]) -> dict[str, int]:
    for name in deltas:
        if name not in COUNTER_COLUMNS:
            raise KeyError(name)
    return {name: delta for name, delta in deltas.items() if delta}


def add_counter_shards(
    session: Session, *, campaign_id: uuid.UUID, initial: Mapping[str, int]
) -> None:
    """A new campaign's shard rows, all of them at once, ``initial`` values in shard 0.

    With every row already there, a bump is always the update branch of its upsert: it never
    inserts, so it never runs the foreign key's check, which would take a share lock on the
    campaign row (and wait for the scheduler holding that row ``FOR UPDATE``).
    """
    values = _nonzero_deltas(initial)
    rows = [
        {
            "campaign_id": campaign_id,
            "shard": shard,
            **{name: values.get(name, 0) if shard == 0 else 0 for name in COUNTER_COLUMNS},
        }
        for shard in range(COUNTER_SHARDS)
    ]
    session.execute(pg_insert(CampaignCounterShard).values(rows).on_conflict_do_nothing())


def bump_counters(session: Session, *, campaign_id: uuid.UUID, deltas: Mapping[str, int]) -> None:
    """Move counters in the caller's transaction: one upsert adding the deltas to a shard row.

    Never a read-modify-write and never the campaign row, so webhooks of one campaign do not
    queue behind one row lock. Readers see the sums (``counters_of``). (A campaign without
    its shard rows, made around ``add_counter_shards``, still works: its first bump of each
    shard inserts the row.)
    """
    values = _nonzero_deltas(deltas)
    if not values:
        return
    # On the table, not the mapped class: a Core statement skips the ORM's bulk-insert path,
    # and this runs once per webhook that moves a counter.
    shards = cast(Table, CampaignCounterShard.__table__)
    stmt = pg_insert(shards).values(
        campaign_id=campaign_id, shard=_THIS_TRANSACTIONS_SHARD, **values
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[shards.c.campaign_id, shards.c.shard],
        set_={name: shards.c[name] + stmt.excluded[name] for name in values},
    )
    session.execute(stmt)


def _summed_columns() -> list[ColumnElement[Any]]:
    shards = CampaignCounterShard.__table__
    return [
        func.coalesce(func.sum(shards.c[name]), 0).cast(BigInteger).label(name)
        for name in COUNTER_COLUMNS
    ]


def counters_of(
    session: Session, *, campaign_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CampaignCounters]:
    """Every campaign's counters now, summed over its shards in one query (zeros if none)."""
    if not campaign_ids:
        return {}
    shards = CampaignCounterShard.__table__
    rows = session.execute(
        select(shards.c.campaign_id, *_summed_columns())
        .where(shards.c.campaign_id.in_(campaign_ids))
        .group_by(shards.c.campaign_id)
    )
    counters = dict.fromkeys(campaign_ids, CampaignCounters())
    for campaign_id, *sums in rows:
        counters[campaign_id] = CampaignCounters.from_values(sums)
    return counters


@dataclass(frozen=True)
class RowsAndCounters:
    """What reconciliation compares, read in one statement so both come from one snapshot."""

    contacts_by_status: dict[str, int]
    calls_by_status: dict[str, int]
    calls_ended_with_reason: int
    stored: CampaignCounters


def _count_json(
    column: InstrumentedAttribute[Any], *where: ColumnElement[bool]
) -> ScalarSelect[Any]:
    grouped = select(column.label("key"), func.count().label("n")).where(*where).group_by(column)
    counted = grouped.subquery()
    return select(func.jsonb_object_agg(counted.c.key, counted.c.n, type_=JSONB)).scalar_subquery()


def rows_and_counters(
    session: Session, *, campaign_id: uuid.UUID, ended_reason: str
) -> RowsAndCounters:
    """Contacts and calls by status, calls ended with ``ended_reason``, and the summed counters.

    One statement, hence one snapshot, even at READ COMMITTED: a transaction that changed rows
    and moved their counters is either wholly in it or wholly out of it.
    """
    shards = CampaignCounterShard.__table__
    sums = select(*_summed_columns()).where(shards.c.campaign_id == campaign_id).subquery()
    with_reason = (
        select(func.count())
        .select_from(Call)
        .where(
            Call.campaign_id == campaign_id,
            Call.status == CallStatus.ENDED,
            Call.ended_reason == ended_reason,
        )
        .scalar_subquery()
    )
    row = session.execute(
        select(
            _count_json(Contact.status, Contact.campaign_id == campaign_id),
            _count_json(Call.status, Call.campaign_id == campaign_id),
            with_reason,
            *sums.c,
        )
    ).one()
    contacts, calls, ended, *stored = row
    return RowsAndCounters(
        contacts_by_status={str(k): int(v) for k, v in (contacts or {}).items()},
        calls_by_status={str(k): int(v) for k, v in (calls or {}).items()},
        calls_ended_with_reason=int(ended or 0),
        stored=CampaignCounters.from_values(stored),
    )


def lock_counters_for_reconcile(session: Session, *, campaign_id: uuid.UUID) -> None:
    """One reconciliation of a campaign at a time (a transaction-level advisory lock).

    Only reconciliations take it: counter writers never wait for it. It must come before the
    snapshot reconciliation reads, which READ COMMITTED guarantees (each statement sees what
    committed before it began); at REPEATABLE READ the snapshot would predate the lock, and a
    second reconciliation could correct the same drift again, so that is refused.
    """
    key = zlib.crc32(campaign_id.bytes) - (1 << 31)
    isolation = session.execute(
        select(
            func.pg_advisory_xact_lock(RECONCILE_LOCK_SPACE, key),
            func.current_setting("transaction_isolation"),
        )
    ).one()[1]
    if isolation != "read committed":
        raise RuntimeError(f"reconciliation needs READ COMMITTED, not {isolation}")
