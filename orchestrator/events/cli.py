"""``orchestrator events``: a campaign's events to its server, listed and sent again."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import typer
from rich.console import Console

from orchestrator.events.schemas import (
    MAX_REDELIVER_IDS,
    EventListQuery,
    EventStatusFilter,
    RedeliverIn,
)
from orchestrator.exceptions import DomainError

events_app = typer.Typer(help="Campaign events to campaigns' servers.", no_args_is_help=True)
console = Console()

CampaignOption = Annotated[str, typer.Option("--campaign", help="The campaign's id.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _run(action: str, campaign_id: str, **kwargs: Any) -> dict[str, Any]:
    """The service's answer for the campaign's own org; errors end the command (status 2)."""
    from orchestrator.db import session_scope
    from orchestrator.events import repository, service

    try:
        with session_scope() as session:
            parsed = uuid.UUID(campaign_id)
            org_id = repository.org_of_campaign(session, campaign_id=parsed)
            if org_id is None:
                raise ValueError("campaign not found")
            answer: dict[str, Any] = getattr(service, action)(
                session, org_id=org_id, campaign_id=campaign_id, **kwargs
            )
            return answer
    except (DomainError, ValueError) as error:
        messages = error.messages if isinstance(error, DomainError) else [str(error)]
        for message in messages:
            console.print(f"[red]error:[/red] {message}", highlight=False)
        raise typer.Exit(2) from None


@events_app.command("list")
def list_events(
    campaign: CampaignOption,
    status: Annotated[
        EventStatusFilter | None, typer.Option(help="pending, delivered or failed.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    page: Annotated[int, typer.Option(min=1)] = 1,
    as_json: JsonOption = False,
) -> None:
    """The campaign's events in order, with where each delivery stands."""
    query = EventListQuery(status=status, limit=limit, page=page)
    answer = _run("list_events", campaign, query=query)
    if as_json:
        typer.echo(json.dumps(answer))
        return
    for event in answer["results"]:
        console.print(
            f"{event['sequence'] or '-':>6}  {event['eventType']:<24} {event['status']:<9} "
            f"attempts {event['attempts']:<3} {event['id']}  {event['lastError'] or ''}",
            highlight=False,
        )
    meta = answer["metadata"]
    console.print(
        f"page {meta['currentPage']} of {meta['totalPages']}, {meta['totalItems']} events"
    )


@events_app.command("redeliver")
def redeliver(
    campaign: CampaignOption,
    event: Annotated[
        list[str] | None, typer.Option("--event", help="An event id (repeat); default: failed.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Send the campaign's failed events again (or the events named), from now on."""
    if not event:
        answer = _run("redeliver_events", campaign, body=None)
    else:
        # The API takes so many ids a request; the shell takes any number, a request each.
        chunks = [event[i : i + MAX_REDELIVER_IDS] for i in range(0, len(event), MAX_REDELIVER_IDS)]
        queued = sum(
            _run("redeliver_events", campaign, body=RedeliverIn(eventIds=chunk))["queued"]
            for chunk in chunks
        )
        answer = {"queued": queued}
    if as_json:
        typer.echo(json.dumps(answer))
        return
    console.print(f"{answer['queued']} events queued for delivery")
