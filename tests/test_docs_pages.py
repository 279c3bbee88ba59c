"""``/docs`` and ``/redoc`` load everything from this server: they work without the internet."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from orchestrator.app import create_app

# Any address with a scheme or a protocol-relative one: the pages must name none.
EXTERNAL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
REFERENCES = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_page_names_no_external_address(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert EXTERNAL.findall(response.text) == []
    assert "/openapi.json" in response.text


@pytest.mark.parametrize(
    ("page", "kinds"),
    [("/docs", {"javascript", "css", "png"}), ("/redoc", {"javascript", "png"})],
)
def test_every_asset_a_page_names_is_served(client: TestClient, page: str, kinds: set[str]) -> None:
    references = REFERENCES.findall(client.get(page).text)
    assert references, "the page loads its scripts from this server"
    served = set()
    for reference in references:
        assert reference.startswith("/docs-assets/"), reference
        response = client.get(reference)
        assert response.status_code == 200, reference
        served.add(response.headers["content-type"].split("/")[-1].split(";")[0])
        # The released bundles, not placeholders.
        assert len(response.content) > 1000, reference
    assert {kind for kind in kinds if any(kind in name for name in served)} == kinds


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_pages_may_load_from_this_server_only(client: TestClient, page: str) -> None:
    policy = client.get(page).headers["content-security-policy"]
    sources = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    for directive in ("default-src", "img-src", "connect-src", "font-src", "script-src"):
        assert sources[directive].startswith("'self'"), directive
        assert "http" not in sources[directive] and "*" not in sources[directive], directive


def test_swagger_ui_asks_no_outside_validator(client: TestClient) -> None:
    assert '"validatorUrl": null' in client.get("/docs").text


def test_the_document_the_pages_read_is_served(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "/campaign" in document["paths"]
    assert "/docs" not in document["paths"]
