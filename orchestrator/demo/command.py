"""The demo command: start the stack, run the campaign, report, and stop everything."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from rich.console import Console
from rich.markup import escape

from orchestrator.demo.api import DemoError, create_campaign, error_text, get_campaign, set_pacing
from orchestrator.demo.campaign import (
    DEMO_CALLS_PER_SECOND,
    DEMO_PHONE_NUMBER_IDS,
    FOLLOW_UP_ENDED_REASONS,
    MAX_CONTACTS,
    campaign_body,
    demo_customers,
)
from orchestrator.demo.logs import log_sink
from orchestrator.demo.report import DemoSummary, render_summary, summarize
from orchestrator.demo.watch import LiveView, watch, watch_texts
from orchestrator.runner import (
    StackError,
    StackInfo,
    StackOptions,
    Terminated,
    handle_termination,
    hurry_requested,
    running_stack,
)

DRAIN_SECONDS = 10.0


@dataclass(frozen=True)
class DemoOptions:
    stack: StackOptions = field(
        default_factory=lambda: StackOptions(
            api_port=0, simulator_port=0, workers=2, concurrency=16, private_state_if_busy=True
        )
    )
    contacts: int = 500
    max_concurrency: int = 25
    timeout: float = 300.0
    verbose: bool = False
    as_json: bool = False


def _run_campaign(options: DemoOptions, stack: StackInfo, console: Console) -> DemoSummary:
    body = campaign_body(demo_customers(options.contacts), max_concurrency=options.max_concurrency)
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    with httpx.Client(
        base_url=stack.api_url, headers=headers, timeout=30.0, trust_env=False
    ) as client:
        set_pacing(client)
        started = time.monotonic()
        campaign_id = create_campaign(client, body)
        console.print(
            f"campaign {campaign_id}: {options.contacts} contacts, "
            f"maxConcurrency {options.max_concurrency}, "
            f"{len(DEMO_PHONE_NUMBER_IDS)} caller numbers at {DEMO_CALLS_PER_SECOND:g} calls/s each"
        )
        with (
            _ended_on_exit(client, campaign_id, console),
            LiveView(console, enabled=not options.as_json) as view,
        ):
            campaign = watch(client, stack, campaign_id, timeout=options.timeout, view=view)
        wall_seconds = time.monotonic() - started
        console.print("act two: a text to each customer the calls did not reach")
        campaign = watch_texts(client, stack, campaign_id, timeout=options.timeout)
        return summarize(campaign, wall_seconds=wall_seconds, follow_up_on=FOLLOW_UP_ENDED_REASONS)


@contextmanager
def _ended_on_exit(client: httpx.Client, campaign_id: str, console: Console) -> Iterator[None]:
    """End the campaign if the demo stops watching it early (timeout, failure, Ctrl-C).

    Left running, it would be dialled by the next stack started on the same database.
    """
    finished = False
    try:
        yield
        finished = True
    finally:
        if not finished:
            _end_campaign(client, campaign_id, console)


def _end_campaign(client: httpx.Client, campaign_id: str, console: Console) -> None:
    try:
        response = client.patch(f"/campaign/{campaign_id}", json={"status": "ended"}, timeout=5.0)
    except httpx.HTTPError as exc:
        console.print(f"[yellow]could not end campaign {campaign_id}: {escape(str(exc))}[/yellow]")
        return
    if response.status_code != 200:
        text = escape(error_text(response))
        console.print(f"[yellow]could not end campaign {campaign_id}: {text}[/yellow]")
        return
    console.print(f"ended campaign {campaign_id} (status ended by the demo)")
    busy = _drain(client, campaign_id)
    if busy:
        console.print(f"[yellow]{busy} calls were still in flight when the stack stopped[/yellow]")


def _drain(client: httpx.Client, campaign_id: str) -> int:
    """Let calls already placed end while the simulator still runs; return how many did not.

    A call whose provider goes away stays in flight in the database and holds org capacity.
    """
    deadline = time.monotonic() + DRAIN_SECONDS
    busy = 0
    while not hurry_requested():
        try:
            campaign = get_campaign(client, campaign_id)
        except (DemoError, httpx.HTTPError):
            return busy
        busy = int(campaign.get("callsCounterQueued", 0))
        busy += int(campaign.get("callsCounterInProgress", 0))
        if busy == 0 or time.monotonic() >= deadline:
            return busy
        time.sleep(0.25)
    return busy


def run_demo(options: DemoOptions) -> int:
    """0 when the campaign ended and its counters check out; 1 otherwise; 128+n on signal n."""
    console = Console(stderr=options.as_json, highlight=False)
    if not 1 <= options.contacts <= MAX_CONTACTS:
        console.print(f"[red]demo failed:[/red] --contacts must be between 1 and {MAX_CONTACTS}")
        return 1
    try:
        with (
            handle_termination(),
            log_sink(options.stack, console, verbose=options.verbose) as sink,
            running_stack(options.stack, sink=sink) as stack,
        ):
            summary = _run_campaign(options, stack, console)
    except Terminated as exc:
        console.print("[yellow]demo interrupted; everything it started is stopped[/yellow]")
        return 128 + exc.signum
    except (StackError, DemoError, httpx.HTTPError) as exc:
        console.print(f"[red]demo failed:[/red] {escape(str(exc))}", soft_wrap=True)
        return 1
    if options.as_json:
        print(json.dumps(summary.to_json()), flush=True)
    else:
        render_summary(console, summary)
    return 0 if summary.status == "ended" and not summary.mismatches else 1
