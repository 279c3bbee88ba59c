"""Fixtures of the campaign tests: ``/v2/campaign`` through Vapi's SDK, and a database that
commits for real (concurrency, completion races)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from vapi import Vapi

from orchestrator.orgs.service import CreatedOrg
from tests.factories import make_org
from tests.support.concurrency import delete_org
from tests.support.vapi_v2 import V2Campaigns


@pytest.fixture
def real_engine(engine: Engine) -> Iterator[Engine]:
    """The test database without a pool: every ``connect()`` is a new backend of its own."""
    unpooled = create_engine(engine.url, poolclass=NullPool)
    yield unpooled
    unpooled.dispose()


@pytest.fixture
def committed_org(real_engine: Engine) -> Iterator[CreatedOrg]:
    """An org committed for real, deleted with everything under it afterwards."""
    with Session(real_engine, expire_on_commit=False) as session:
        org = make_org(session, name="committed", concurrency_limit=100)
        session.commit()
    yield org
    delete_org(real_engine, org.org_id)


@pytest.fixture
def v2(vapi: Vapi, answers: list[httpx.Response]) -> V2Campaigns:
    """``/v2/campaign`` through Vapi's Python SDK, as the org's customer would use it."""
    return V2Campaigns(vapi, answers)
