"""``orchestrator campaign watch ID``: a campaign's progress, redrawn every poll.

Each poll is one ``GET /v2/campaign/{id}`` (counters, call metrics and the pacing insight).
Rates come from two successive polls: ``dialed/s`` is the change in ``callMetrics.dialed``
(contacts whose call the provider accepted; a retry of a contact already dialed is not
counted again) over the time between them, ``finished/s`` the change in contacts completed,
failed or skipped. ``in flight`` is the contacts ``dispatched``: a call claimed or under way.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console, RenderableType
from rich.live import Live

from orchestrator.console.campaign_app import campaign_app
from orchestrator.console.campaign_commands import CampaignId
from orchestrator.console.campaign_view import (
    ENDED_STATUSES,
    counters_of,
    dialed_of,
    duration,
    summary_view,
)
from orchestrator.console.client import (
    DEFAULT_API_URL,
    ApiClient,
    ApiKeyOption,
    ApiUrlOption,
    connected,
)

console = Console()
FINISHED = ("completed", "failed", "skipped", "predialFailed")


@dataclass(frozen=True)
class Sample:
    at: float
    dialed: int
    finished: int

    @classmethod
    def of(cls, summary: Mapping[str, Any], *, at: float) -> Sample:
        counters = counters_of(summary)
        return cls(at, dialed_of(summary), sum(counters[name] for name in FINISHED))


def rate_lines(summary: Mapping[str, Any], before: Sample | None, now: Sample) -> list[str]:
    in_flight = counters_of(summary)["dispatched"]
    if before is None or now.at <= before.at:
        rates = "dialed/s: -  finished/s: -  (after the next poll)"
    else:
        seconds = now.at - before.at
        dialed = (now.dialed - before.dialed) / seconds
        finished = (now.finished - before.finished) / seconds
        rates = f"dialed/s: {dialed:.1f}  finished/s: {finished:.1f}  (last {seconds:.1f}s)"
    clock = datetime.now().strftime("%H:%M:%S")
    return [f"in flight: {in_flight}", rates, f"updated: {clock}"]


def frame(summary: Mapping[str, Any], before: Sample | None, now: Sample) -> RenderableType:
    return summary_view(summary, extra=rate_lines(summary, before, now))


def final_summary(summary: Mapping[str, Any], *, watched_seconds: float) -> str:
    counters = counters_of(summary)
    outcome = ", ".join(f"{name} {counters[name]}" for name in FINISHED if counters[name])
    reason = f" ({summary['endedReason']})" if summary.get("endedReason") else ""
    return (
        f"campaign {summary['id']} {summary['status']}{reason}: {outcome or 'no contacts'}"
        f" of {counters['total']}; {dialed_of(summary)} dialed;"
        f" watched {duration(watched_seconds)}"
    )


def _poll(api: ApiClient, campaign_id: str) -> tuple[dict[str, Any], Sample]:
    summary: dict[str, Any] = api.json("GET", f"/v2/campaign/{campaign_id}")
    return summary, Sample.of(summary, at=time.monotonic())


def _follow(api: ApiClient, campaign_id: str, *, interval: float) -> dict[str, Any]:
    """Redraws until the campaign ends or Ctrl-C; the last summary read."""
    summary, sample = _poll(api, campaign_id)
    before: Sample | None = None
    with Live(frame(summary, before, sample), console=console, auto_refresh=False) as live:
        try:
            while summary["status"] not in ENDED_STATUSES:
                time.sleep(interval)
                before = sample
                summary, sample = _poll(api, campaign_id)
                live.update(frame(summary, before, sample), refresh=True)
        except KeyboardInterrupt:
            pass
    return summary


@campaign_app.command("watch")
def watch_campaign(
    campaign_id: CampaignId,
    interval: Annotated[
        float, typer.Option(min=0.2, help="Seconds between two polls of the API.")
    ] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Print one frame and stop.")] = False,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = "",
) -> None:
    """A live view of the campaign, redrawn at every poll.

    Counters, dial rate, calls in flight, why contacts wait and the estimated finish; ends
    with a summary when the campaign ends, or on Ctrl-C."""
    started = time.monotonic()
    with connected(api_url, api_key) as api:
        if once:
            summary, sample = _poll(api, campaign_id)
            console.print(frame(summary, None, sample))
            return
        summary = _follow(api, campaign_id, interval=interval)
    if summary["status"] in ENDED_STATUSES:
        done = final_summary(summary, watched_seconds=time.monotonic() - started)
        console.print(done, soft_wrap=True, highlight=False)
    else:
        console.print("stopped watching; the campaign goes on", highlight=False)
