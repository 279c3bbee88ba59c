"""``orchestrator campaign create``: a campaign from the command line, its customers from a CSV.

With ``--csv`` the campaign is created paused and without customers, the file is streamed to
``POST /campaign/{id}/customers`` (with a progress bar of the bytes sent), and only then is the
campaign resumed. If the file is refused, or anything stops the upload, the campaign is
deleted (archived): a half-made campaign never dials.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from orchestrator.console.campaign_app import campaign_app
from orchestrator.console.client import (
    DEFAULT_API_URL,
    ApiClient,
    ApiError,
    ApiKeyOption,
    ApiUrlOption,
    connected,
    fail,
)

UPLOAD_BLOCK = 1 << 20
# The answer comes once the last row is written: a million rows take a while.
UPLOAD_TIMEOUT = httpx.Timeout(30.0, read=3_600.0, write=3_600.0)
# Rejected rows printed after an append with --on-error skip; the answer says how many in all.
SHOWN_REJECTED = 20

out = Console()
progress_console = Console(stderr=True)

CsvOption = Annotated[
    Path | None,
    typer.Option(
        "--csv",
        exists=True,
        dir_okay=False,
        readable=True,
        help="Customers: a header line (number, name, email, externalId, sipUri, extension, "
        "timezone; any other column is a variable), then one customer a line.",
    ),
]
JsonFileOption = Annotated[
    Path | None,
    typer.Option(
        "--json-file",
        exists=True,
        dir_okay=False,
        readable=True,
        help="Other fields of POST /campaign as a JSON object (the options below win).",
    ),
]


@campaign_app.command("create")
def create(
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = "",
    csv_file: CsvOption = None,
    json_file: JsonFileOption = None,
    name: Annotated[str | None, typer.Option(help="Default: the CSV file's name.")] = None,
    assistant_id: Annotated[str | None, typer.Option("--assistant-id")] = None,
    squad_id: Annotated[str | None, typer.Option("--squad-id")] = None,
    workflow_id: Annotated[str | None, typer.Option("--workflow-id")] = None,
    phone_number_id: Annotated[str | None, typer.Option("--phone-number-id")] = None,
    max_concurrency: Annotated[int | None, typer.Option("--max-concurrency")] = None,
    earliest_at: Annotated[
        str | None, typer.Option("--earliest-at", help="schedulePlan.earliestAt (ISO 8601).")
    ] = None,
    latest_at: Annotated[
        str | None, typer.Option("--latest-at", help="schedulePlan.latestAt (ISO 8601).")
    ] = None,
    on_error: Annotated[
        str,
        typer.Option("--on-error", help="fail: any bad row refuses the file; skip: add the rest."),
    ] = "fail",
) -> None:
    """Create a campaign; with --csv its customers come from the file."""
    if on_error not in ("fail", "skip"):
        fail(["--on-error must be fail or skip"])
    body = _body(json_file)
    given = {
        "name": name or (csv_file.stem if csv_file else None),
        "assistantId": assistant_id,
        "squadId": squad_id,
        "workflowId": workflow_id,
        "phoneNumberId": phone_number_id,
        "maxConcurrency": max_concurrency,
    }
    body.update({key: value for key, value in given.items() if value is not None})
    if earliest_at or latest_at:
        body["schedulePlan"] = {
            key: value
            for key, value in (("earliestAt", earliest_at), ("latestAt", latest_at))
            if value
        }
    with connected(api_url, api_key) as client:
        if csv_file is None:
            _show(client.json("POST", "/campaign", json=body))
            return
        _create_from_csv(client, body, csv_file, skip=on_error == "skip")


def _body(json_file: Path | None) -> dict[str, Any]:
    if json_file is None:
        return {}
    try:
        body = json.loads(json_file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        fail([f"{json_file}: {error}"])
    if not isinstance(body, dict):
        fail([f"{json_file}: must hold a JSON object (the fields of POST /campaign)"])
    return body


def _create_from_csv(client: ApiClient, body: dict[str, Any], path: Path, *, skip: bool) -> None:
    stays_paused = body.get("status") == "paused"
    created = client.json("POST", "/campaign", json={**body, "status": "paused"})
    campaign_id = created["id"]
    try:
        answer = _upload(client, campaign_id, path, skip=skip)
    except BaseException:
        _delete(client, campaign_id)
        raise
    _report(answer)
    if not stays_paused:
        created = client.json("PATCH", f"/campaign/{campaign_id}", json={"status": "scheduled"})
    _show(created)


def _delete(client: ApiClient, campaign_id: str) -> None:
    """The campaign that got no customers goes, so nothing is left to dial."""
    try:
        client.send("DELETE", f"/campaign/{campaign_id}")
    except ApiError as error:
        progress_console.print(
            f"campaign {campaign_id} could not be deleted ({error}): delete it by hand"
        )
        return
    progress_console.print(f"campaign {campaign_id} deleted: it got no customers")


def _upload(client: ApiClient, campaign_id: str, path: Path, *, skip: bool) -> dict[str, Any]:
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(
        "[progress.description]{task.description}", *columns, console=progress_console
    ) as progress:
        task = progress.add_task(f"uploading {path.name}", total=path.stat().st_size)

        def blocks() -> Iterator[bytes]:
            with path.open("rb") as source:
                while block := source.read(UPLOAD_BLOCK):
                    yield block
                    progress.advance(task, len(block))

        answer: dict[str, Any] = client.json(
            "POST",
            f"/campaign/{campaign_id}/customers",
            content=blocks(),
            params={"onError": "skip" if skip else "fail"},
            headers={"Content-Type": "text/csv"},
            timeout=UPLOAD_TIMEOUT,
        )
    return answer


def _report(answer: dict[str, Any]) -> None:
    out.print(
        f"added {answer['added']} customers; {answer['duplicates']} duplicates left out; "
        f"{answer['rejected']} rows rejected"
    )
    for error in answer["errors"][:SHOWN_REJECTED]:
        column = f", column {error['column']}" if error["column"] else ""
        out.print(f"  row {error['row']}{column}: {error['reason']}", highlight=False)
    if answer["errorCount"] > SHOWN_REJECTED:
        out.print(f"  ... {answer['errorCount']} problems in all")


def _show(campaign: dict[str, Any]) -> None:
    out.print(f"campaign {campaign['id']}: {campaign['status']}")
