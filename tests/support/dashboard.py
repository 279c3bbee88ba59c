"""The dashboard in a real browser: the API served on a port with every request a unit of work
in one session (the test's, rolled back), and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.orm import Session

from orchestrator.db import get_session
from tests.support.servers import serve

KEY_ITEM = "orchestrator.apiKey"


@dataclass(frozen=True)
class Served:
    url: str
    # Held by each request and by whoever changes rows meanwhile: one session, one user at once.
    lock: threading.Lock


@contextmanager
def serve_in_session(app: FastAPI, session: Session) -> Iterator[Served]:
    """``app`` on a free port, each of its requests committing (a savepoint) in ``session``."""
    lock = threading.Lock()

    def _session() -> Iterator[Session]:
        with lock:
            yield session
            session.commit()

    app.dependency_overrides[get_session] = _session
    with serve(app, lifespan="off") as url:
        yield Served(url, lock)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium (``make system-deps`` installs it), never a browser Playwright
    downloads, headless."""
    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("chromium is not installed: run make system-deps")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Page, key: str) -> None:
    page.fill("#api-key", key)
    page.click("#sign-in button[type=submit]")
