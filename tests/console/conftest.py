"""The operator commands against the real app served over HTTP, inside the test's
transaction (the ``api`` fixture's app on a port of its own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from orchestrator.cli import app
from orchestrator.orgs.service import CreatedOrg
from tests.support.servers import serve


class Cli:
    """``orchestrator ...`` as an operator runs it, pointed at the served API with a key."""

    def __init__(self, api_url: str, api_key: str) -> None:
        self.api_url = api_url
        self.api_key = api_key

    def __call__(self, *args: str, api_key: str | None = None) -> Result:
        env = {"ORCH_API_URL": self.api_url, "ORCH_API_KEY": api_key or self.api_key}
        return CliRunner(env=env).invoke(app, list(args))


@pytest.fixture
def api_url(api: TestClient) -> Iterator[str]:
    with serve(api.app, lifespan="off") as base_url:  # type: ignore[arg-type]
        yield base_url


@pytest.fixture
def cli(api_url: str, org: CreatedOrg) -> Cli:
    return Cli(api_url, org.api_key)
