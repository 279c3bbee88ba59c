"""An empty database of its own for a test that walks migrations up and down."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text


@pytest.fixture
def database(database_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """Created empty beside the test database and named after it and the test module, so two
    checkouts (or two modules) testing at once never share it; dropped afterwards."""
    base, test_database = database_url.rsplit("/", 1)
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20]
    name = f"{test_database}_{module}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
