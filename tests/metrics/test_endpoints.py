"""``GET /metrics``: open unless ``ORCH_METRICS_TOKEN`` is set, then only with that token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from orchestrator.config import get_settings
from tests.support.errors import error_messages

TOKEN = "scrape-token-0b6f2c"


@pytest.fixture
def metrics_token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("ORCH_METRICS_TOKEN", TOKEN)
    get_settings.cache_clear()
    yield TOKEN
    monkeypatch.delenv("ORCH_METRICS_TOKEN")
    get_settings.cache_clear()


def test_metrics_are_open_without_a_token(api: TestClient) -> None:
    response = api.get("/metrics")
    assert response.status_code == 200
    assert "orchestrator_calls_in_flight" in response.text


@pytest.mark.usefixtures("metrics_token")
@pytest.mark.parametrize("header", [None, "Bearer wrong", TOKEN, f"Basic {TOKEN}x"])
def test_with_a_token_set_other_callers_get_401(api: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = api.get("/metrics", headers=headers)
    if header == TOKEN:
        # A bare token is accepted too: some scrapers send the credentials alone.
        assert response.status_code == 200
        return
    assert error_messages(response, 401) == (
        "Invalid metrics token (Authorization: Bearer <ORCH_METRICS_TOKEN>)"
    )
    assert "orchestrator_" not in response.text


def test_with_a_token_set_the_scraper_reads_them(api: TestClient, metrics_token: str) -> None:
    response = api.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
    assert response.status_code == 200
    assert "orchestrator_calls_in_flight" in response.text
