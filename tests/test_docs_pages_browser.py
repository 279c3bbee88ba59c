"""``/docs`` and ``/redoc`` render in a real browser that may reach nothing but this server."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route

from orchestrator.app import create_app
from tests.support.dashboard import chromium
from tests.support.servers import serve


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve(create_app(), lifespan="off") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def _offline_page(browser: Browser, base_url: str, outside: list[str]) -> Page:
    """A page whose requests to any other host fail, as without the internet, and are noted
    (the pages' policy stops ReDoc's own logo from its CDN before it is asked for)."""
    page = browser.new_page()
    own_host = urlsplit(base_url).netloc

    def route(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own_host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    return page


def test_swagger_ui_renders_every_operation_offline(browser: Browser, base_url: str) -> None:
    outside: list[str] = []
    page = _offline_page(browser, base_url, outside)
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/campaign/{campaign_id}/export" in " ".join(paths) or "/campaign" in paths
    assert len(paths) > 30
    assert outside == []
    page.close()


def test_redoc_renders_the_document_offline(browser: Browser, base_url: str) -> None:
    outside: list[str] = []
    page = _offline_page(browser, base_url, outside)
    page.goto(f"{base_url}/redoc")
    page.wait_for_selector("[data-section-id^='tag/']", timeout=30_000)
    assert "Outbound campaign orchestrator" in page.locator("h1").first.inner_text()
    assert page.locator("[data-section-id^='operation/']").count() > 30
    assert outside == []
    page.close()
