"""Outside development the API and the workers refuse the defaults anyone can read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from orchestrator.app import create_served_app
from orchestrator.cli import app
from orchestrator.config import (
    DEVELOPMENT,
    DEVELOPMENT_WEBHOOK_SECRET,
    SIMULATOR_API_KEY,
    Settings,
    get_settings,
)
from orchestrator.safety import UnsafeSettings, unsafe_settings
from workers.celery_app import refuse_unsafe_settings

GOOD_SECRET = "7d3c1f0a9b8e4d2c6a5f1e0b"


@pytest.fixture(autouse=True)
def no_secrets_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings made here start from the defaults, not from the test run's own secrets."""
    monkeypatch.delenv("ORCH_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("ORCH_PROVIDER_API_KEY", raising=False)


def production(**values: str) -> Settings:
    return Settings(env="production", **values)  # type: ignore[arg-type]


def test_production_is_the_default_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORCH_ENV")
    assert Settings().env == "production"


def test_production_refuses_both_well_known_defaults() -> None:
    problems = unsafe_settings(production())
    assert len(problems) == 2
    assert "ORCH_WEBHOOK_SECRET" in problems[0] and "development default" in problems[0]
    assert "ORCH_PROVIDER_API_KEY" in problems[1]


def test_production_refuses_a_short_secret() -> None:
    problems = unsafe_settings(production(webhook_secret="short", provider_api_key="real"))
    assert problems == [
        "ORCH_WEBHOOK_SECRET is shorter than 16 characters: use a long random secret"
    ]


def test_production_accepts_settings_of_its_own() -> None:
    settings = production(webhook_secret=GOOD_SECRET, provider_api_key="a-real-key")
    assert unsafe_settings(settings) == []


def test_development_accepts_the_defaults() -> None:
    settings = Settings(env=DEVELOPMENT)
    assert settings.webhook_secret == DEVELOPMENT_WEBHOOK_SECRET
    assert settings.provider_api_key == SIMULATOR_API_KEY
    assert unsafe_settings(settings) == []


@pytest.fixture
def production_environment(
    monkeypatch: pytest.MonkeyPatch, no_secrets_in_environment: None
) -> Iterator[None]:
    """The process's settings as a production host without its own secrets would have them."""
    monkeypatch.setenv("ORCH_ENV", "production")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("command", [["api"], ["worker"], ["beat"]])
@pytest.mark.usefixtures("production_environment")
def test_commands_refuse_to_start_and_name_the_setting(command: list[str]) -> None:
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    assert "refusing to start" in result.output
    assert "ORCH_WEBHOOK_SECRET" in result.output
    assert "ORCH_PROVIDER_API_KEY" in result.output
    assert DEVELOPMENT_WEBHOOK_SECRET not in result.output


@pytest.mark.usefixtures("production_environment")
def test_the_served_app_refuses_to_be_made() -> None:
    with pytest.raises(UnsafeSettings, match="ORCH_WEBHOOK_SECRET"):
        create_served_app()


@pytest.mark.usefixtures("production_environment")
def test_a_worker_started_by_celery_itself_exits() -> None:
    with pytest.raises(SystemExit, match="ORCH_PROVIDER_API_KEY"):
        refuse_unsafe_settings()


def test_a_worker_in_development_starts() -> None:
    refuse_unsafe_settings()
