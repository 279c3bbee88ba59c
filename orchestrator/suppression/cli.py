"""``orchestrator suppression``: an org's suppression list imported from CSV, or exported."""

from __future__ import annotations

import json
import sys
import uuid
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, NoReturn

import typer
from rich.console import Console

from orchestrator.exceptions import DomainError
from orchestrator.suppression.schemas import SuppressionReason

suppression_app = typer.Typer(
    help="Each org's suppression list: numbers it never calls.", no_args_is_help=True
)
console = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON line.")]


def _fail(messages: list[str]) -> NoReturn:
    for message in messages:
        console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def _org_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        _fail(["--org must be an org's id (a UUID)"])


def _expiry(value: str | None) -> datetime | None:
    from orchestrator.suppression.schemas import check_expiry

    if value is None:
        return None
    try:
        return check_expiry(datetime.fromisoformat(value))
    except ValueError as error:
        _fail([f"--expires-at must be an ISO 8601 time with its offset: {error}"])


@suppression_app.command("import")
def import_numbers(
    file: Annotated[Path, typer.Argument(help="CSV with a header naming a 'number' column.")],
    org: Annotated[str, typer.Option("--org", help="The org's id.")],
    reason: Annotated[SuppressionReason, typer.Option(help="Why these numbers are listed.")],
    source: Annotated[str | None, typer.Option(help="Free text: where the list came from.")] = None,
    expires_at: Annotated[
        str | None, typer.Option(help="When the entries stop applying (ISO 8601, with offset).")
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option(help="Add the valid rows and report the others, rather than none.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Add every number of FILE to the org's list: all of them, or none if one is invalid."""
    from orchestrator.db import session_scope
    from orchestrator.suppression.transfer import ImportRequest, import_file

    request = ImportRequest(
        org_id=_org_id(org),
        path=file,
        reason=reason,
        source=source,
        expires_at=_expiry(expires_at),
        skip_invalid=skip_invalid,
    )
    try:
        with session_scope() as session:
            report = import_file(session, request=request)
    except DomainError as error:
        _fail(error.messages)
    if as_json:
        lines = [line for line, _ in report.invalid_lines]
        answer = {"added": report.added, "alreadyPresent": report.already_present}
        typer.echo(json.dumps({**answer, "invalid": report.invalid, "invalidLines": lines}))
        return
    typer.echo(f"added {report.added}, already present {report.already_present}")
    if report.invalid:
        typer.echo(f"skipped {report.invalid} invalid rows:")
        for message in report.invalid_messages():
            typer.echo(f"  {message}")


@suppression_app.command("export")
def export_numbers(
    org: Annotated[str | None, typer.Option("--org", help="One org's list (default: all).")] = None,
    reason: Annotated[SuppressionReason | None, typer.Option(help="Entries of one reason.")] = None,
    output: Annotated[str, typer.Option(help="A file, or - for standard output.")] = "-",
) -> None:
    """Write the entries as CSV: number, reason, source, created_at, expires_at (org_id first
    when every org is exported); expired entries are included."""
    from orchestrator.db import session_scope
    from orchestrator.suppression.transfer import export_file

    org_id = _org_id(org) if org is not None else None
    sink: IO[bytes]
    try:
        with (
            nullcontext(sys.stdout.buffer) if output == "-" else Path(output).open("wb") as sink,
            session_scope() as session,
        ):
            count = export_file(
                session, org_id=org_id, reason=str(reason) if reason else None, sink=sink
            )
    except DomainError as error:
        _fail(error.messages)
    except OSError as error:
        _fail([f"{output}: {error.strerror or error}"])
    console.print(f"{count} entries exported", highlight=False)
