"""``orchestrator campaign list|get|pause|resume|cancel|export``, through ``/v2/campaign``
(whose reads carry counters and pacing without every customer, unlike v1's) and the export."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console

from orchestrator.console.campaign_app import campaign_app
from orchestrator.console.campaign_view import list_table, print_table, summary_view
from orchestrator.console.client import (
    DEFAULT_API_URL,
    ApiKeyOption,
    ApiUrlOption,
    connected,
    fail,
)

console = Console()
notes = Console(stderr=True, soft_wrap=True)

CampaignId = Annotated[str, typer.Argument(help="The campaign's id.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's answer as JSON.")]
STATUSES = ("scheduled", "in-progress", "paused", "ended", "cancelled")


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2))


@campaign_app.command("list")
def list_campaigns(
    status: Annotated[
        str | None, typer.Option(help=f"Only campaigns in this status ({', '.join(STATUSES)}).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Campaigns per page.")] = 50,
    page: Annotated[int, typer.Option(min=1, help="The page, newest campaigns first.")] = 1,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = "",
) -> None:
    """The org's campaigns, newest first, with their contact counters."""
    query: dict[str, Any] = {"includeCounters": "true", "limit": limit, "page": page}
    if status is not None:
        query["status"] = status
    with connected(api_url, api_key) as api:
        answer = api.json("GET", "/v2/campaign", params=query)
    if as_json:
        print_json(answer["results"])
        return
    print_table(list_table(answer["results"]))
    meta = answer.get("metadata") or {}
    notes.print(
        f"page {meta.get('currentPage', page)} of {meta.get('totalPages', 1)}, "
        f"{meta.get('totalItems', len(answer['results']))} campaigns",
        highlight=False,
    )


@campaign_app.command("get")
def get_campaign(
    campaign_id: CampaignId,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = "",
) -> None:
    """One campaign: counters, calls, why contacts wait, and when it should finish."""
    with connected(api_url, api_key) as api:
        summary = api.json("GET", f"/v2/campaign/{campaign_id}")
    if as_json:
        print_json(summary)
        return
    console.print(summary_view(summary))


def _set_status(campaign_id: str, status: str, *, api_url: str, api_key: str) -> None:
    with connected(api_url, api_key) as api:
        answer = api.json("PATCH", f"/v2/campaign/{campaign_id}", json={"status": status})
    console.print(f"campaign {answer['id']}: {answer['status']}", highlight=False)


@campaign_app.command("pause")
def pause_campaign(
    campaign_id: CampaignId, api_url: ApiUrlOption = DEFAULT_API_URL, api_key: ApiKeyOption = ""
) -> None:
    """No new dials; calls in flight finish."""
    _set_status(campaign_id, "paused", api_url=api_url, api_key=api_key)


@campaign_app.command("resume")
def resume_campaign(
    campaign_id: CampaignId, api_url: ApiUrlOption = DEFAULT_API_URL, api_key: ApiKeyOption = ""
) -> None:
    """Dial a paused campaign again."""
    _set_status(campaign_id, "in-progress", api_url=api_url, api_key=api_key)


@campaign_app.command("cancel")
def cancel_campaign(
    campaign_id: CampaignId, api_url: ApiUrlOption = DEFAULT_API_URL, api_key: ApiKeyOption = ""
) -> None:
    """Stop the campaign for good: contacts not yet dialed are skipped."""
    _set_status(campaign_id, "cancelled", api_url=api_url, api_key=api_key)


@campaign_app.command("export")
def export_campaign(
    campaign_id: CampaignId,
    output: Annotated[
        str, typer.Option("--output", "-o", help="The CSV file to write, or - for standard output.")
    ],
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = "",
) -> None:
    """Every contact and its outcome as CSV (GET /campaign/{id}/export), streamed to disk."""
    sink: IO[bytes]
    written = 0
    try:
        with (
            connected(api_url, api_key) as api,
            api.stream("GET", f"/campaign/{campaign_id}/export") as answer,
            nullcontext(sys.stdout.buffer) if output == "-" else Path(output).open("wb") as sink,
        ):
            for chunk in answer.iter_bytes():
                written += len(chunk)
                sink.write(chunk)
    except OSError as error:
        fail([f"{output}: {error.strerror or error}"])
    if output != "-":
        notes.print(f"{written} bytes written to {output}", highlight=False)
