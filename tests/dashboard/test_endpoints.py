"""``GET /dashboard`` and its assets: served from the package, under a strict policy, with no
address but the API's own."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import orchestrator
from orchestrator.dashboard.endpoints import ASSETS, static_file

PAGES = ["/dashboard", *(f"/dashboard/assets/{name}" for name in ASSETS)]
ADDRESS = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", re.IGNORECASE)


@pytest.mark.parametrize("path", PAGES)
def test_the_page_and_its_assets_come_with_a_strict_policy(api: TestClient, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "default-src 'none'" in policy
    assert "unsafe" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == static_file("index.html" if path == "/dashboard" else path[18:])


@pytest.mark.parametrize("path", PAGES)
def test_nothing_in_the_page_names_another_host(api: TestClient, path: str) -> None:
    text = api.get(path).text

    assert ADDRESS.findall(text) == []
    assert "http:" not in text
    assert "https:" not in text


def test_the_page_loads_only_its_own_assets(api: TestClient) -> None:
    page = api.get("/dashboard").text

    loaded = re.findall(r'(?:src|href)="([^"#]+)"', page)

    assert sorted(loaded) == sorted(f"dashboard/assets/{name}" for name in ASSETS)


def test_no_data_reaches_the_page_as_markup() -> None:
    script = static_file("app.js").decode()

    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
    assert "localStorage" not in script
    assert "document.cookie" not in script


@pytest.mark.parametrize("name", ["index.html", "../endpoints.py", "app.map", "%2e%2e%2fapp.js"])
def test_other_files_are_not_served(api: TestClient, name: str) -> None:
    response = api.get(f"/dashboard/assets/{name}")

    assert response.status_code == 404


def test_an_installed_package_has_the_assets() -> None:
    """Every file of the page is package data, so a non-editable install serves it too."""
    package = Path(orchestrator.__file__).parent
    pyproject = tomllib.loads((package.parent / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["orchestrator"]
    files = [
        str(path.relative_to(package))
        for path in (package / "dashboard" / "static").rglob("*")
        if path.is_file()
    ]

    assert sorted(files) == sorted(f"dashboard/static/{name}" for name in [*ASSETS, "index.html"])
    assert all(any(fnmatch(name, pattern) for pattern in patterns) for name in files)
