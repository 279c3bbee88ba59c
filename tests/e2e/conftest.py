"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


@pytest.fixture
def committed(engine: Engine) -> Iterator[Session]:
    """A session that commits for real: the stack's processes must see what it writes."""
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    yield session
    session.close()
