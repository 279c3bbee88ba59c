"""``orchestrator flower``: the Celery command it runs, its credentials (never on the command
line), its refusal to serve a non-loopback address without them, and task events on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from orchestrator.cli import app
from orchestrator.config import get_settings
from orchestrator.enqueue import celery_config
from orchestrator.runner.flower import (
    FLOWER_BASIC_AUTH_ENV,
    FlowerConfigError,
    flower_command,
    flower_environment,
)

CELERY = ["/py", "-m", "celery", "-A", "workers.celery_app:celery_app", "flower"]


def test_on_loopback_flower_may_run_without_credentials() -> None:
    for host in ("127.0.0.1", "localhost", "::1"):
        command = flower_command(python="/py", host=host, port=5555, basic_auth=None)
        assert command.argv == [*CELERY, "--port=5555", f"--address={host}"]
        assert command.env == {}


def test_credentials_reach_flower_in_its_environment_not_its_command_line() -> None:
    command = flower_command(python="/py", host="0.0.0.0", port=5600, basic_auth="ops:s3cret")
    assert command.argv == [*CELERY, "--port=5600", "--address=0.0.0.0"]
    assert not any("s3cret" in arg for arg in command.argv)
    assert command.env == {FLOWER_BASIC_AUTH_ENV: "ops:s3cret"}
    several = flower_command(python="/py", host="10.0.0.5", port=1, basic_auth="a:1, b:2")
    assert several.env == {FLOWER_BASIC_AUTH_ENV: "a:1,b:2"}


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "::", "flower.internal"])
def test_a_non_loopback_flower_without_credentials_is_refused(host: str) -> None:
    with pytest.raises(FlowerConfigError, match="ORCH_FLOWER_BASIC_AUTH"):
        flower_command(python="/py", host=host, port=5555, basic_auth=None)


@pytest.mark.parametrize("credentials", ["ops", "ops:", ":s3cret", "ops:s3cret,admin"])
def test_credentials_must_be_user_and_password(credentials: str) -> None:
    with pytest.raises(FlowerConfigError, match="user:password"):
        flower_command(python="/py", host="0.0.0.0", port=5555, basic_auth=credentials)


def test_inherited_credentials_are_not_passed_on_unless_given() -> None:
    inherited = {"PATH": "/bin", FLOWER_BASIC_AUTH_ENV: "old:one"}
    open_ = flower_command(python="/py", host="127.0.0.1", port=5555, basic_auth=None)
    assert flower_environment(inherited, open_) == {"PATH": "/bin"}
    given = flower_command(python="/py", host="0.0.0.0", port=5555, basic_auth="ops:new")
    assert flower_environment(inherited, given)[FLOWER_BASIC_AUTH_ENV] == "ops:new"


def test_flower_reads_its_credentials_from_that_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from flower.command import apply_env_options
    from tornado.options import options

    before = options.basic_auth
    monkeypatch.setenv(FLOWER_BASIC_AUTH_ENV, "ops:s3cret,admin:other")
    try:
        apply_env_options()
        assert options.basic_auth == ["ops:s3cret", "admin:other"]
    finally:
        options.basic_auth = before


@pytest.fixture
def no_flower_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ORCH_FLOWER_BASIC_AUTH", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("no_flower_credentials")
def test_the_command_refuses_a_public_flower_without_credentials() -> None:
    result = CliRunner().invoke(app, ["flower", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "ORCH_FLOWER_BASIC_AUTH" in result.output
    bad = CliRunner().invoke(app, ["flower", "--host", "0.0.0.0", "--basic-auth", "ops"])
    assert bad.exit_code == 2
    assert "user:password" in bad.output


def test_flower_credentials_are_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCH_FLOWER_BASIC_AUTH", "ops:s3cret")
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert settings.flower_basic_auth == "ops:s3cret"
        assert "s3cret" not in repr(settings)
    finally:
        get_settings.cache_clear()


def test_every_task_sends_its_events_for_flower() -> None:
    from workers.celery_app import celery_app

    assert celery_app.conf.worker_send_task_events is True
    assert celery_app.conf.task_send_sent_event is True
    # The API's client sends tasks too: its sent events are on as well.
    config = celery_config(get_settings())
    assert config["worker_send_task_events"] is True
    assert config["task_send_sent_event"] is True
