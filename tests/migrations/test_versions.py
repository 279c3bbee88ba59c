"""The Alembic migrations build exactly the schema the models describe, and undo cleanly."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from orchestrator.migrate import alembic_config
from orchestrator.models.base import Base

MIGRATIONS_DATABASE = "orchestrator_migrations_test"


@pytest.fixture(scope="module")
def empty_database(database_url: str) -> str:
    """A database of its own, so going down and up never disturbs the other tests."""
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {MIGRATIONS_DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {MIGRATIONS_DATABASE}"))
    admin.dispose()
    return database_url.rsplit("/", 1)[0] + f"/{MIGRATIONS_DATABASE}"


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_migrations_match_the_models_and_round_trip(empty_database: str) -> None:
    config = alembic_config(empty_database)
    engine = create_engine(empty_database)
    try:
        command.upgrade(config, "head")
        assert _differences(engine) == []
        command.downgrade(config, "base")
        assert inspect(engine).get_table_names() == ["alembic_version"]
        command.upgrade(config, "head")
        assert _differences(engine) == []
    finally:
        engine.dispose()
