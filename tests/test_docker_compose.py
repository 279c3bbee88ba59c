"""``docker-compose.yml`` runs what exists: CLI commands and options, and settings, that the
code defines. Read as Compose reads it (YAML with the ``x-orchestrator`` anchor merged)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from orchestrator.cli import app
from orchestrator.config import Settings

COMPOSE_FILE = Path(__file__).resolve().parents[1] / "docker-compose.yml"
# The processes of `orchestrator up`, plus the database, the broker and the migration.
STACK = {"postgres", "redis", "migrate", "api", "worker", "outbound", "beat", "simulator", "flower"}
INTERPOLATION = re.compile(r"^\$\{(?P<name>[A-Z0-9_]+)(?::?-(?P<default>[^}]*))?\}$")


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _orchestrator_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return {
        name: service
        for name, service in services.items()
        if str(service.get("command", "")).startswith("orchestrator ")
    }


def _cli_envvars(command: Any) -> set[str]:
    """Every environment variable an option of the CLI reads (Typer's commands, walked as
    click's: Typer ships its own copy of click, so they are read by their attributes)."""
    names = {
        envvar
        for param in command.params
        for envvar in (
            [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or [])
        )
    }
    for sub in getattr(command, "commands", {}).values():
        names |= _cli_envvars(sub)
    return names


def _known_settings() -> set[str]:
    from_settings = {f"ORCH_{name.upper()}" for name in Settings.model_fields}
    return from_settings | _cli_envvars(typer.main.get_command(app))


def test_the_whole_stack_is_there() -> None:
    services = set(_compose()["services"])
    assert services >= STACK, STACK - services
    assert set(_orchestrator_services()) >= STACK - {"postgres", "redis"}


@pytest.mark.parametrize("name", sorted(_orchestrator_services()))
def test_each_command_and_its_options_exist(name: str) -> None:
    command = _orchestrator_services()[name]["command"]
    args = shlex.split(command)[1:]
    group: Any = typer.main.get_command(app)
    context = group.make_context("orchestrator", list(args))
    sub_name, sub, rest = group.resolve_command(context, list(args))
    assert sub is not None, f"{name}: no command {sub_name}"
    # Parses the options as the command would: an unknown option or a bad value raises.
    sub.make_context(str(sub_name), rest, parent=context)


@pytest.mark.parametrize("name", sorted(_orchestrator_services()))
def test_each_setting_exists(name: str) -> None:
    environment = _orchestrator_services()[name].get("environment", {})
    unknown = set(environment) - _known_settings()
    assert unknown == set(), f"{name} sets {sorted(unknown)}, which nothing reads"


def test_it_is_a_development_stack_unless_told_otherwise() -> None:
    for name, service in _orchestrator_services().items():
        match = INTERPOLATION.match(service["environment"]["ORCH_ENV"])
        assert match is not None, name
        assert (match["name"], match["default"]) == ("ORCH_ENV", "development")
        # Production swaps in its own provider and secrets through the same variables.
        for setting in ("ORCH_WEBHOOK_SECRET", "ORCH_PROVIDER_API_KEY", "ORCH_PROVIDER_BASE_URL"):
            value = INTERPOLATION.match(service["environment"][setting])
            assert value is not None and value["name"] == setting, (name, setting)


def test_the_processes_start_after_the_migration() -> None:
    for name, service in _orchestrator_services().items():
        if name == "migrate":
            continue
        assert service["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name
