"""Migration 0005 carries every campaign's counters into its shards, and back down."""

from __future__ import annotations

import uuid

from alembic import command
from sqlalchemy import Engine, create_engine, inspect, text

from orchestrator.migrate import alembic_config

COUNTERS = {
    "calls_counter_scheduled": 4,
    "calls_counter_queued": 1,
    "calls_counter_in_progress": 2,
    "calls_counter_ended": 3,
    "calls_counter_ended_voicemail": 1,
    "contacts_pending": 4,
    "contacts_dispatched": 3,
    "contacts_completed": 2,
    "contacts_failed": 1,
    "contacts_skipped": 0,
    "contacts_predial_failed": 0,
}


def _seed_campaign(engine: Engine) -> uuid.UUID:
    """A campaign as revision 0004 stored it, counters on its row."""
    org_id, campaign_id = uuid.uuid4(), uuid.uuid4()
    columns = ", ".join(COUNTERS)
    values = ", ".join(f":{name}" for name in COUNTERS)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO orgs (id, name, concurrency_limit) VALUES (:id, 'o', 10)"),
            {"id": org_id},
        )
        conn.execute(
            text(
                "INSERT INTO campaigns (id, org_id, name, status, uses_dial_plan, "
                f"max_concurrency, extensions, contacts_total, {columns}) VALUES "
                f"(:id, :org, 'c', 'in-progress', false, 10, '{{}}', 10, {values})"
            ),
            {"id": campaign_id, "org": org_id, **COUNTERS},
        )
    return campaign_id


def _shard_rows(engine: Engine, campaign_id: uuid.UUID) -> list[dict[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM campaign_counter_shards WHERE campaign_id = :id ORDER BY shard"),
            {"id": campaign_id},
        )
        return [dict(row) for row in rows.mappings()]


def test_counters_move_into_shard_zero_and_fold_back_on_downgrade(database: str) -> None:
    config = alembic_config(database)
    engine = create_engine(database)
    try:
        command.upgrade(config, "0004")
        campaign_id = _seed_campaign(engine)

        command.upgrade(config, "0005")
        assert not set(COUNTERS) & {c["name"] for c in inspect(engine).get_columns("campaigns")}
        rows = _shard_rows(engine, campaign_id)
        assert [row["shard"] for row in rows] == list(range(16))
        assert {name: rows[0][name] for name in COUNTERS} == COUNTERS
        assert all(row[name] == 0 for row in rows[1:] for name in COUNTERS)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE campaign_counter_shards SET contacts_pending = contacts_pending - 1, "
                    "contacts_completed = contacts_completed + 1 "
                    "WHERE campaign_id = :id AND shard = 9"
                ),
                {"id": campaign_id},
            )

        command.downgrade(config, "0004")
        assert "campaign_counter_shards" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            row = conn.execute(
                text(f"SELECT {', '.join(COUNTERS)} FROM campaigns WHERE id = :id"),
                {"id": campaign_id},
            )
            folded = dict(row.mappings().one())
        assert folded == {**COUNTERS, "contacts_pending": 3, "contacts_completed": 3}
    finally:
        engine.dispose()
