"""Migration 0013 gives every existing org a signing secret of its own, and undoes cleanly."""

from __future__ import annotations

import uuid

from alembic import command
from sqlalchemy import create_engine, inspect, text

from orchestrator.migrate import alembic_config


def test_existing_orgs_get_distinct_signing_secrets(database: str) -> None:
    config = alembic_config(database)
    engine = create_engine(database)
    try:
        command.upgrade(config, "0012")
        with engine.begin() as conn:
            for _ in range(2):
                conn.execute(
                    text("INSERT INTO orgs (id, name, concurrency_limit) VALUES (:id, 'o', 10)"),
                    {"id": uuid.uuid4()},
                )
        command.upgrade(config, "0013")
        with engine.connect() as conn:
            secrets = conn.scalars(text("SELECT signing_secret FROM orgs")).all()
        assert len(set(secrets)) == 2
        assert all(s.startswith("whsec_") and len(s) == 6 + 64 for s in secrets)
        assert "campaign_events" in inspect(engine).get_table_names()
        command.downgrade(config, "0012")
        inspector = inspect(engine)
        assert "campaign_events" not in inspector.get_table_names()
        assert "signing_secret" not in {c["name"] for c in inspector.get_columns("orgs")}
    finally:
        engine.dispose()
