"""Appends that would wait are refused at once: a second append to a campaign while one is
under way is a 409, and one more than a server runs at once a 429 before its body is read.
A real server and a committed database: the first append holds its body open until the test
lets it finish."""

from __future__ import annotations

import threading
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text

from orchestrator.campaigns.append_endpoints import SLOTS
from orchestrator.config import get_settings
from orchestrator.contacts.import_repository import APPEND_LOCK_SPACE
from orchestrator.orgs.service import CreatedOrg
from tests.factories import customer_numbers, post_campaign
from tests.support.errors import error_messages
from tests.support.servers import serve, wait_until

CSV = {"Content-Type": "text/csv"}


@pytest.fixture
def client(committed_org: CreatedOrg) -> Iterator[httpx.Client]:
    from orchestrator.app import create_app

    app: FastAPI = create_app()
    auth = {"Authorization": f"Bearer {committed_org.api_key}"}
    with serve(app, lifespan="off") as url, httpx.Client(base_url=url, headers=auth) as http:
        yield http


def _held_append(
    client: httpx.Client, campaign_id: str, release: threading.Event
) -> Future[httpx.Response]:
    """An append whose body stops after its first row until ``release`` is set."""
    first, second = customer_numbers(2, start=950)

    def body() -> Iterator[bytes]:
        yield f"number\n{first}\n".encode()
        release.wait(timeout=30)
        yield f"{second}\n".encode()

    def post() -> httpx.Response:
        url = f"/campaign/{campaign_id}/customers"
        return client.post(url, content=body(), headers=CSV, timeout=60)

    return ThreadPoolExecutor(max_workers=1).submit(post)


def _append_lock_held(engine: Engine, campaign_id: str) -> bool:
    key = zlib.crc32(uuid.UUID(campaign_id).bytes) - (1 << 31)
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = :space AND objid = CAST(:key AS bigint) & 4294967295"
    )
    with engine.connect() as connection:
        return bool(connection.scalar(query, {"space": APPEND_LOCK_SPACE, "key": key}))


def test_a_second_append_to_a_campaign_under_way_is_a_409_and_another_campaign_is_served(
    client: httpx.Client, real_engine: Engine
) -> None:
    busy = post_campaign(client, {}, customers=1)["id"]
    other = post_campaign(client, {}, customers=1)["id"]
    release = threading.Event()
    held = _held_append(client, busy, release)
    try:
        wait_until(lambda: _append_lock_held(real_engine, busy))
        refused = client.post(f"/campaign/{busy}/customers", content="number\n", headers=CSV)
        assert error_messages(refused, 409) == (
            "another append to this campaign is under way: try again when it ends"
        )
        body = f"number\n{customer_numbers(1, start=960)[0]}\n"
        served = client.post(f"/campaign/{other}/customers", content=body, headers=CSV)
        assert served.status_code == 201, served.text
    finally:
        release.set()
    assert held.result(timeout=30).status_code == 201
    assert client.get(f"/campaign/{busy}").json()["callsCounterScheduled"] == 3


def test_one_more_append_than_the_server_runs_is_a_429_before_its_body_is_read(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "max_concurrent_imports", 1)
    first = post_campaign(client, {}, customers=1)["id"]
    second = post_campaign(client, {}, customers=1)["id"]
    release = threading.Event()
    held = _held_append(client, first, release)
    try:
        wait_until(lambda: SLOTS.in_use == 1)
        # Not CSV at all: a body that was read would be a 400.
        refused = client.post(f"/campaign/{second}/customers", content=b"\xff", headers=CSV)
        assert error_messages(refused, 429) == (
            "1 appends are already under way in this server: try again shortly"
        )
    finally:
        release.set()
    assert held.result(timeout=30).status_code == 201
    wait_until(lambda: SLOTS.in_use == 0)
    body = f"number\n{customer_numbers(1, start=970)[0]}\n"
    again = client.post(f"/campaign/{second}/customers", content=body, headers=CSV)
    assert again.status_code == 201, again.text
