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

from orchestrator.console.client import DEFAULT_API_URL, ApiKeyOption, ApiUrlOption
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
    reason: Annotated[SuppressionReason, typer.Option(help="Why these numbers are listed.")],
    org: Annotated[
        str | None,
        typer.Option("--org", help="The org's id: write to the database, not through the API."),
    ] = None,
    source: Annotated[str | None, typer.Option(help="Free text: where the list came from.")] = None,
    expires_at: Annotated[
        str | None, typer.Option(help="When the entries stop applying (ISO 8601, with offset).")
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option(help="Add the valid rows and report the others, rather than none.")
    ] = False,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = "",
) -> None:
    """Add every number of FILE to the org's list: all of them, or none if one is invalid.

    Through the API (the org of ORCH_API_KEY), or straight into the database with --org."""
    from orchestrator.db import session_scope
    from orchestrator.suppression.transfer import ImportRequest, import_file

    if org is None:
        from orchestrator.console.suppression_commands import ImportOverApi, import_over_api

        over_api = ImportOverApi(file, reason, source, expires_at, skip_invalid, as_json)
        import_over_api(over_api, api_url=api_url, api_key=api_key)
        return
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
    print_import_report(
        added=report.added,
        already_present=report.already_present,
        invalid_lines=[line for line, _ in report.invalid_lines],
        invalid=report.invalid,
        messages=report.invalid_messages(),
        as_json=as_json,
    )


def print_import_report(
    *,
    added: int,
    already_present: int,
    invalid_lines: list[int],
    invalid: int,
    messages: list[str],
    as_json: bool,
) -> None:
    """What an import did, however it reached the list (the database or the API)."""
    if as_json:
        answer = {"added": added, "alreadyPresent": already_present}
        typer.echo(json.dumps({**answer, "invalid": invalid, "invalidLines": invalid_lines}))
        return
    typer.echo(f"added {added}, already present {already_present}")
    if invalid:
        typer.echo(f"skipped {invalid} invalid rows:")
        for message in messages:
            typer.echo(f"  {message}")


@suppression_app.command("export")
def export_numbers(
    org: Annotated[
        str | None, typer.Option("--org", help="One org's list, read from the database.")
    ] = None,
    all_orgs: Annotated[
        bool, typer.Option("--all-orgs", help="Every org's list, read from the database.")
    ] = False,
    reason: Annotated[SuppressionReason | None, typer.Option(help="Entries of one reason.")] = None,
    output: Annotated[str, typer.Option(help="A file, or - for standard output.")] = "-",
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = "",
) -> None:
    """Write the org's entries as CSV, expired ones included.

    Columns: number, reason, source, created_at, expires_at (org_id first with --all-orgs).

    Through the API (the org of ORCH_API_KEY), or from the database with --org or --all-orgs."""
    from orchestrator.db import session_scope
    from orchestrator.suppression.transfer import export_file

    org_id = _org_id(org) if org is not None else None
    by_reason = str(reason) if reason else None
    sink: IO[bytes]
    try:
        with nullcontext(sys.stdout.buffer) if output == "-" else Path(output).open("wb") as sink:
            if org_id is None and not all_orgs:
                from orchestrator.console.suppression_commands import export_over_api

                count = export_over_api(sink, reason=by_reason, api_url=api_url, api_key=api_key)
            else:
                with session_scope() as session:
                    count = export_file(session, org_id=org_id, reason=by_reason, sink=sink)
    except DomainError as error:
        _fail(error.messages)
    except OSError as error:
        _fail([f"{output}: {error.strerror or error}"])
    console.print(f"{count} entries exported", highlight=False)


# The commands that only speak to the API register themselves here.
from orchestrator.console import suppression_commands  # noqa: E402,F401
