"""``orchestrator campaign events ID``: the campaign's webhook deliveries, and redelivery."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orchestrator.console.campaign_app import campaign_app
from orchestrator.console.campaign_commands import CampaignId, JsonOption, print_json
from orchestrator.console.campaign_view import print_table, short_time
from orchestrator.console.client import DEFAULT_API_URL, ApiKeyOption, ApiUrlOption, connected

console = Console()


def events_table(events: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False)
    for name in ("id", "event", "status", "attempts", "occurred", "delivered", "last error"):
        table.add_column(name, justify="right" if name == "attempts" else "left")
    for event in events:
        table.add_row(
            event["id"],
            event["eventType"],
            event["status"],
            str(event["attempts"]),
            short_time(event.get("occurredAt")),
            short_time(event.get("deliveredAt")),
            event.get("lastError") or "",
        )
    return table


@campaign_app.command("events")
def campaign_events(
    campaign_id: CampaignId,
    failed: Annotated[bool, typer.Option("--failed", help="Only deliveries that failed.")] = False,
    redeliver: Annotated[
        bool,
        typer.Option(
            "--redeliver", help="Send the failed events again (or those named with --event)."
        ),
    ] = False,
    event_ids: Annotated[
        list[str] | None, typer.Option("--event", help="An event to redeliver (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Events per page.")] = 100,
    page: Annotated[int, typer.Option(min=1, help="The page, oldest events first.")] = 1,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = "",
) -> None:
    """The campaign's events to its server, with their delivery status.

    --redeliver sends the failed ones again, or only those named with --event."""
    with connected(api_url, api_key) as api:
        if redeliver or event_ids:
            body = {"eventIds": event_ids} if event_ids else None
            path = f"/campaign/{campaign_id}/events/redeliver"
            answer = api.json("POST", path, json=body)
        else:
            query: dict[str, Any] = {"limit": limit, "page": page}
            if failed:
                query["status"] = "failed"
            answer = api.json("GET", f"/campaign/{campaign_id}/events", params=query)
    if as_json:
        print_json(answer)
    elif "queued" in answer:
        console.print(f"{answer['queued']} events queued for delivery", highlight=False)
    else:
        print_table(events_table(answer["results"]))
