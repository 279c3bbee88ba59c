"""The ``orchestrator devstack`` command group."""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestrator.devstack.common import (
    DevstackError,
    _database_target,
    _redact,
    _redis_target,
)
from orchestrator.devstack.lifecycle import _stop, devstack_status, ensure_devstack
from orchestrator.devstack.paths import _Paths, devstack_root

devstack_app = typer.Typer(
    help="Local Postgres and Redis on loopback for development and tests.",
    no_args_is_help=True,
)
_console = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Devstack directory [default: $ORCH_DEVSTACK_DIR or ./.devstack]",
        show_default=False,
    ),
]


@devstack_app.command()
def up(root: RootOption = None) -> None:
    """Start Postgres and Redis if they are not running (idempotent)."""
    started = time.monotonic()
    try:
        info = ensure_devstack(root)
    except DevstackError as exc:
        _err.print(f"[red]devstack up failed:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    for action in info.actions:
        _console.print(f"• {escape(action)}")
    _console.print(f"ORCH_DATABASE_URL={escape(_redact(info.database_url))}")
    _console.print(f"ORCH_REDIS_URL={escape(_redact(info.redis_url))}")
    _console.print(f"[green]devstack ready[/green] in {time.monotonic() - started:.1f}s")


@devstack_app.command()
def down(root: RootOption = None) -> None:
    """Stop Postgres (fast shutdown) and Redis."""
    try:
        messages = _stop(_Paths(devstack_root(root)))
    except DevstackError as exc:
        _err.print(f"[red]devstack down failed:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    for message in messages:
        _console.print(f"• {escape(message)}")


@devstack_app.command()
def status(root: RootOption = None) -> None:
    """Show whether each component answers; exit 1 unless both do."""
    state = devstack_status(root)
    urls = {"postgres": _database_target()[0], "redis": _redis_target()[0]}
    table = Table("component", "state")
    table.add_column("url", overflow="fold")
    for name, running in state.items():
        label = "[green]running[/green]" if running else "[red]down[/red]"
        table.add_row(name, label, escape(_redact(urls[name])))
    _console.print(table)
    if not all(state.values()):
        raise typer.Exit(1)


@devstack_app.command()
def env() -> None:
    """Print export lines; use as  eval "$(orchestrator devstack env)"."""
    # Plain echo, not rich: the output is shell code and must not be wrapped or styled.
    typer.echo(f"export ORCH_DATABASE_URL={shlex.quote(_database_target()[0])}")
    typer.echo(f"export ORCH_REDIS_URL={shlex.quote(_redis_target()[0])}")
