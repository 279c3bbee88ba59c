"""Test fixtures: a real Postgres (migrated with Alembic) and Redis from the devstack.

Tests run against their own database, ``orchestrator_test``; each test's work happens in a
transaction that is rolled back at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from vapi import Vapi

from orchestrator.clock import ManualClock, use_clock
from orchestrator.config import DEVELOPMENT, DEVSTACK_PG_PORT, get_settings
from orchestrator.models import WebhookEvent
from orchestrator.orgs.service import CreatedOrg
from tests.factories import RecordedTasks, make_org

TEST_DATABASE = "orchestrator_test"


def _test_database_url() -> str:
    configured = os.environ.get("ORCH_TEST_DATABASE_URL")
    if configured:
        return configured
    base = os.environ.get(
        "ORCH_DATABASE_URL", f"postgresql+psycopg://orchestrator@127.0.0.1:{DEVSTACK_PG_PORT}/x"
    )
    return base.rsplit("/", 1)[0] + f"/{TEST_DATABASE}"


def _prepare_environment() -> None:
    """Runs at import, before any test module reads settings."""
    os.environ["ORCH_DATABASE_URL"] = _test_database_url()
    # Tests get their own Redis database so a running dev stack never takes their tasks.
    if "ORCH_TEST_REDIS_URL" in os.environ:
        os.environ["ORCH_REDIS_URL"] = os.environ["ORCH_TEST_REDIS_URL"]
    else:
        redis_base = os.environ.get("ORCH_REDIS_URL", get_settings().redis_url)
        os.environ["ORCH_REDIS_URL"] = redis_base.rsplit("/", 1)[0] + "/1"
    os.environ.setdefault("ORCH_WEBHOOK_SECRET", "test-webhook-secret")
    # Tests run with development's well-known defaults (tests/test_safety.py checks production).
    os.environ["ORCH_ENV"] = DEVELOPMENT
    # The user's servers tests stand up (pre-dial, events out) listen on loopback.
    os.environ.setdefault("ORCH_ALLOW_PRIVATE_SERVER_URLS", "true")
    get_settings.cache_clear()


_prepare_environment()


@pytest.fixture(scope="session")
def database_url() -> str:
    from orchestrator.devstack import ensure_devstack

    ensure_devstack()
    return get_settings().database_url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    from orchestrator.migrate import upgrade_to_head

    engine = create_engine(database_url, pool_pre_ping=True)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade_to_head(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    transaction = conn.begin()
    yield conn
    transaction.rollback()
    conn.close()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session whose commits become savepoints of the test's rolled-back transaction."""
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield db
    db.close()


@pytest.fixture
def tasks() -> RecordedTasks:
    """What the API sent to the workers (the ``api`` fixture sends nothing to a broker)."""
    return RecordedTasks()


@pytest.fixture
def api(session: Session, tasks: RecordedTasks) -> Iterator[TestClient]:
    """The real FastAPI app, its requests running inside the test's transaction."""
    from orchestrator.app import create_app
    from orchestrator.db import get_session
    from orchestrator.enqueue import get_task_queue
    from orchestrator.flows.apply_webhooks import InlineStore
    from orchestrator.webhooks.intake import WebhookIntake
    from orchestrator.webhooks.redispatch import Coalescer

    app = create_app()

    def _session() -> Iterator[Session]:
        yield session
        session.commit()

    app.dependency_overrides[get_session] = _session
    app.dependency_overrides[get_task_queue] = lambda: tasks
    # Inline: a webhook is applied before its answer, in the test's session (one at a time).
    freed = Coalescer(tasks.dispatch_org)
    app.state.freed_capacity = freed  # tests drain it before they look at what was sent
    app.state.webhook_intake = WebhookIntake(
        InlineStore(contextmanager(_session)), on_stored=lambda: None, on_freed=freed.request
    )
    with TestClient(app) as client:
        yield client
        assert client.portal is not None
        client.portal.call(freed.drain)


@pytest.fixture
def no_other_webhook_events(session: Session) -> None:
    """Events other tests' processes committed (end-to-end runs) are not this test's to apply
    or count: removed inside the test's transaction, which is rolled back."""
    session.execute(delete(WebhookEvent))


@pytest.fixture
def org(session: Session) -> CreatedOrg:
    return make_org(session)


@pytest.fixture
def auth(org: CreatedOrg) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.api_key}"}


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """The service's clock, standing still at a fixed instant until the test moves it."""
    manual = ManualClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    with use_clock(manual):
        yield manual


@pytest.fixture
def answers(api: TestClient) -> Iterator[list[httpx.Response]]:
    """Every response a client of ``api`` (Vapi's SDK) receives, for checking the raw JSON."""
    seen: list[httpx.Response] = []

    def record(response: httpx.Response) -> None:
        response.read()
        seen.append(response)

    api.event_hooks["response"].append(record)
    yield seen
    api.event_hooks["response"].remove(record)


@pytest.fixture
def vapi(api: TestClient, org: CreatedOrg) -> Vapi:
    """Vapi's official Python SDK, as the org's customer would use it, against ``api``."""
    return Vapi(token=org.api_key, base_url="http://testserver", httpx_client=api)
