"""Engine, sessions and units of work for the API and the workers (sync SQLAlchemy, psycopg 3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from typing import Annotated

import orjson
from fastapi import Depends
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.config import get_settings


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    settings = get_settings()
    return create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_overflow,
        pool_pre_ping=True,
        # Reading JSONB (stored webhooks) is a hot path; orjson builds the same objects.
        json_deserializer=orjson.loads,
    )


@lru_cache(maxsize=1)
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on error. Tasks and CLI commands use it."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# How work outside a request opens its own transactions: ``session_scope``, or in tests one that
# hands out the test's session.
UnitOfWork = Callable[[], AbstractContextManager[Session]]


def get_session() -> Iterator[Session]:
    """The request owns the transaction: commit when the endpoint returns, roll back on error."""
    with session_scope() as session:
        yield session


# Function scope: the commit runs before the answer is sent and before background tasks, so a
# client never hears of a write that is not stored, and tasks enqueued after the answer find
# the rows committed.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
