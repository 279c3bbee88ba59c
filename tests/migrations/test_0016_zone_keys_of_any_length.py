"""Migration 0016 lets zone keys grow past 200 characters, and going down strips what the
older code cannot read (states, over-long keys) from contacts and campaigns alike."""

from __future__ import annotations

import json
import uuid

import phonenumbers
import pytest
from alembic import command
from phonenumbers.timezone import time_zones_for_number
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DataError

from orchestrator.migrate import alembic_config

# A key as stored for a toll-free number before those became "|*": every NANP zone.
TOLL_FREE_KEY = ",".join(sorted(time_zones_for_number(phonenumbers.parse("+18005550123"))))


def _seed_campaign(engine: Engine, zone_keys: list[str]) -> uuid.UUID:
    org_id, campaign_id = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO orgs (id, name, concurrency_limit, signing_secret) "
                "VALUES (:id, 'o', 10, 'whsec_test')"
            ),
            {"id": org_id},
        )
        conn.execute(
            text(
                "INSERT INTO campaigns (id, org_id, name, status, uses_dial_plan, "
                "max_concurrency, extensions, contacts_total, contact_zone_keys) VALUES "
                "(:id, :org, 'c', 'in-progress', false, 10, '{}', :total, :keys)"
            ),
            {
                "id": campaign_id,
                "org": org_id,
                "total": len(zone_keys),
                "keys": json.dumps(zone_keys),
            },
        )
        for position, key in enumerate(zone_keys):
            _add_contact(conn, campaign_id=campaign_id, org_id=org_id, position=position, key=key)
    return campaign_id


def _add_contact(
    conn: Connection, *, campaign_id: uuid.UUID, org_id: uuid.UUID, position: int, key: str
) -> None:
    conn.execute(
        text(
            "INSERT INTO contacts (id, campaign_id, org_id, position, dedupe_key, customer, "
            "status, attempts, zone_key) VALUES (:id, :campaign, :org, :position, :dedupe, "
            "'{}', 'pending', 0, :key)"
        ),
        {
            "id": uuid.uuid4(),
            "campaign": campaign_id,
            "org": org_id,
            "position": position,
            "dedupe": f"tel:{position}",
            "key": key,
        },
    )


def _keys(engine: Engine, campaign_id: uuid.UUID) -> tuple[list[str], list[str]]:
    with engine.connect() as conn:
        contacts = conn.scalars(
            text("SELECT zone_key FROM contacts WHERE campaign_id = :id ORDER BY position"),
            {"id": campaign_id},
        ).all()
        campaign = conn.scalar(
            text("SELECT contact_zone_keys FROM campaigns WHERE id = :id"), {"id": campaign_id}
        )
    return list(contacts), sorted(campaign)


def test_long_keys_are_stored_and_going_down_strips_states_and_long_keys(database: str) -> None:
    assert len(TOLL_FREE_KEY) > 200
    config = alembic_config(database)
    engine = create_engine(database)
    try:
        command.upgrade(config, "0014")
        with pytest.raises(DataError):
            _seed_campaign(engine, [TOLL_FREE_KEY])
        command.upgrade(config, "0016")
        keys = [TOLL_FREE_KEY, "America/New_York|FL", "America/Chicago|FL", "Europe/London"]
        campaign_id = _seed_campaign(engine, keys)
        assert _keys(engine, campaign_id) == (keys, sorted(keys))

        command.downgrade(config, "0014")
        old = ["", "America/New_York", "America/Chicago", "Europe/London"]
        assert _keys(engine, campaign_id) == (old, sorted(old))
    finally:
        engine.dispose()
