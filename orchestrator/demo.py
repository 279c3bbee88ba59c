"""``orchestrator demo``: one campaign end to end on a fresh stack, through the public HTTP API.

It starts everything ``up`` starts, posts a campaign like any API client would, watches
``GET /campaign/{id}`` until the campaign ends and prints what happened, including a check that
the campaign's counters equal a recount of its ``calls`` map.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import httpx
from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orchestrator.devstack import devstack_root
from orchestrator.runner import (
    RUNNER_SOURCE,
    ConsoleSink,
    LogSink,
    StackError,
    StackInfo,
    StackOptions,
    Terminated,
    handle_termination,
    hurry_requested,
    prefix_width,
    running_stack,
)

__all__ = [
    "MAX_CONTACTS",
    "DemoOptions",
    "DemoSummary",
    "campaign_body",
    "counter_mismatches",
    "demo_customers",
    "run_demo",
    "summarize",
]

DEMO_ASSISTANT_ID = "demo-assistant"
DEMO_PHONE_NUMBER_IDS = ("demo-caller-1", "demo-caller-2")
# Each demo caller number's pacing, set through ``PUT /phone-number/{id}/pacing``.
DEMO_CALLS_PER_SECOND = 25.0
# 555-0100..0199 is the North American range reserved for fiction: 100 numbers per area code.
AREA_CODES: tuple[str, ...] = ("202", "212", "312", "415", "617", "303", "206", "512", "404")
AREA_CODES += ("305", "213", "602", "702", "503", "615", "919", "718", "646", "773", "214")
MAX_CONTACTS = 100 * len(AREA_CODES)
POLL_INTERVAL_SECONDS = 0.5
DRAIN_SECONDS = 10.0
FINISHED_STATUSES = frozenset({"ended", "cancelled", "archived"})
IN_PROGRESS_CALL_STATUSES = frozenset({"ringing", "in-progress", "forwarding"})
ERROR_ECHO_LIMIT = 20
ERROR_MARKERS = ("ERROR", "CRITICAL", "Traceback")


class DemoError(RuntimeError):
    """The demo could not run its campaign to the end; the message says what happened."""


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


# --------------------------------------------------------------------------- the campaign


def demo_customers(count: int) -> list[dict[str, str]]:
    """``count`` distinct, valid E.164 numbers from the fictional 555-01XX ranges."""
    if not 1 <= count <= MAX_CONTACTS:
        raise ValueError(f"the demo has between 1 and {MAX_CONTACTS} contacts, not {count}")
    return [
        {"number": f"+1{AREA_CODES[i // 100]}55501{i % 100:02d}", "name": f"Demo {i + 1}"}
        for i in range(count)
    ]


def campaign_body(customers: list[dict[str, str]], *, max_concurrency: int) -> dict[str, Any]:
    """A Vapi ``CreateCampaignDTO`` that splits the customers across two caller numbers."""
    half = (len(customers) + 1) // 2
    batches = [customers[:half], customers[half:]]
    return {
        "name": f"demo {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
        "assistantId": DEMO_ASSISTANT_ID,
        "maxConcurrency": max_concurrency,
        "dialPlan": [
            {"phoneNumberId": number_id, "customers": batch}
            for number_id, batch in zip(DEMO_PHONE_NUMBER_IDS, batches, strict=True)
            if batch
        ],
    }


def _error_text(response: httpx.Response) -> str:
    try:
        message = response.json().get("message", response.text)
    except (ValueError, AttributeError):
        message = response.text
    if isinstance(message, list):
        message = "; ".join(str(item) for item in message[:5])
    return f"HTTP {response.status_code}: {message}"


def _set_pacing(client: httpx.Client) -> None:
    for number_id in DEMO_PHONE_NUMBER_IDS:
        response = client.put(
            f"/phone-number/{number_id}/pacing",
            json={"callsPerSecond": DEMO_CALLS_PER_SECOND, "maxConcurrency": None},
        )
        if response.status_code != 200:
            raise DemoError(f"PUT pacing of {number_id} was refused: {_error_text(response)}")


def _create_campaign(client: httpx.Client, body: Mapping[str, Any]) -> str:
    response = client.post("/campaign", json=body)
    if response.status_code != 201:
        raise DemoError(f"POST /campaign was refused: {_error_text(response)}")
    return str(response.json()["id"])


def _get_campaign(client: httpx.Client, campaign_id: str) -> dict[str, Any]:
    response = client.get(f"/campaign/{campaign_id}")
    if response.status_code != 200:
        raise DemoError(f"GET /campaign/{campaign_id} failed: {_error_text(response)}")
    body: dict[str, Any] = response.json()
    return body


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class DemoSummary:
    campaign_id: str
    status: str
    wall_seconds: float
    ended_reasons: dict[str, int]
    contacts: dict[str, int]
    calls_ended: int
    mismatches: list[str]

    @property
    def calls_per_second(self) -> float:
        return self.calls_ended / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "campaignId": self.campaign_id,
            "status": self.status,
            "wallSeconds": round(self.wall_seconds, 3),
            "callsEnded": self.calls_ended,
            "callsPerSecond": round(self.calls_per_second, 2),
            "endedReasons": self.ended_reasons,
            "contacts": self.contacts,
            "countersMatchRecount": not self.mismatches,
            "mismatches": self.mismatches,
        }


def _calls(campaign: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    calls = campaign.get("calls") or {}
    return list(calls.values()) if isinstance(calls, Mapping) else []


def counter_mismatches(campaign: Mapping[str, Any]) -> list[str]:
    """Where the campaign's counters differ from a recount of its ``calls`` map (at rest)."""
    statuses = Counter(str(call.get("status")) for call in _calls(campaign))
    recount = {
        "callsCounterQueued": statuses["queued"],
        "callsCounterInProgress": sum(statuses[s] for s in IN_PROGRESS_CALL_STATUSES),
        "callsCounterEnded": statuses["ended"],
        "callsCounterEndedVoicemail": sum(
            1
            for call in _calls(campaign)
            if call.get("status") == "ended" and call.get("endedReason") == "voicemail"
        ),
    }
    problems = [
        f"{name} is {campaign.get(name, 0)}, recount {value}"
        for name, value in recount.items()
        if campaign.get(name, 0) != value
    ]
    contacts = dict(campaign.get("contactCounters") or {})
    total = contacts.pop("total", None)
    if total is not None and sum(contacts.values()) != total:
        problems.append(f"contactCounters sum to {sum(contacts.values())}, total is {total}")
    return problems


def summarize(campaign: Mapping[str, Any], *, wall_seconds: float) -> DemoSummary:
    reasons = Counter(str(call.get("endedReason") or "(none)") for call in _calls(campaign))
    return DemoSummary(
        campaign_id=str(campaign["id"]),
        status=str(campaign.get("status")),
        wall_seconds=wall_seconds,
        ended_reasons=dict(reasons.most_common()),
        contacts=dict(campaign.get("contactCounters") or {}),
        calls_ended=int(campaign.get("callsCounterEnded", 0)),
        mismatches=counter_mismatches(campaign),
    )


def render_summary(console: Console, summary: DemoSummary) -> None:
    total_calls = sum(summary.ended_reasons.values()) or 1
    console.print(f"[bold]campaign {summary.campaign_id}[/bold]: {escape(summary.status)}")
    reasons = Table()
    reasons.add_column("endedReason")
    reasons.add_column("calls", justify="right")
    reasons.add_column("share", justify="right")
    for reason, count in summary.ended_reasons.items():
        reasons.add_row(escape(reason), str(count), f"{100 * count / total_calls:.1f}%")
    console.print(reasons)
    contacts = summary.contacts
    shown = ("completed", "failed", "skipped", "predialFailed")
    extra = [f"{name} {contacts[name]}" for name in shown[2:] if contacts.get(name)]
    console.print(
        f"contacts   completed {contacts.get('completed', 0)}, failed {contacts.get('failed', 0)}"
        + "".join(f", {item}" for item in extra)
        + f" of {contacts.get('total', '?')}"
    )
    console.print(f"wall time  {summary.wall_seconds:.1f} s")
    console.print(
        f"throughput {summary.calls_per_second:.1f} calls/s ({summary.calls_ended} ended)"
    )
    if summary.mismatches:
        console.print("[red]check      counters differ from a recount of the calls map:[/red]")
        for problem in summary.mismatches:
            console.print(f"           [red]{escape(problem)}[/red]")
    else:
        console.print("check      [green]counters equal a recount of the calls map[/green]")


# --------------------------------------------------------------------------- live view


COUNTER_COLUMNS = (
    ("scheduled", "callsCounterScheduled"),
    ("queued", "callsCounterQueued"),
    ("in-progress", "callsCounterInProgress"),
    ("ended", "callsCounterEnded"),
    ("voicemail", "callsCounterEndedVoicemail"),
)


def _counters(campaign: Mapping[str, Any]) -> dict[str, int]:
    contacts = campaign.get("contactCounters") or {}
    values = {label: int(campaign.get(key, 0)) for label, key in COUNTER_COLUMNS}
    values["completed"] = int(contacts.get("completed", 0))
    values["failed"] = int(contacts.get("failed", 0))
    return values


def _contacts_done(campaign: Mapping[str, Any]) -> int:
    contacts = campaign.get("contactCounters") or {}
    return sum(int(contacts.get(k, 0)) for k in ("completed", "failed", "skipped", "predialFailed"))


class _LiveView:
    """A bar over the contacts and a row with the campaign's counters, redrawn on every poll."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self.progress = Progress(
            TextColumn("[bold]contacts"),
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = self.progress.add_task("contacts", total=None)
        self.counters = _counters({})
        self.live = Live(self, console=console, refresh_per_second=8) if enabled else None

    def __rich__(self) -> RenderableType:
        table = Table(box=box.SIMPLE, padding=(0, 1), show_edge=False)
        for label in self.counters:
            table.add_column(label, justify="right")
        table.add_row(*(str(value) for value in self.counters.values()))
        return Group(self.progress, table)

    def update(self, campaign: Mapping[str, Any]) -> None:
        total = (campaign.get("contactCounters") or {}).get("total")
        self.progress.update(self.task, total=total, completed=_contacts_done(campaign))
        self.counters = _counters(campaign)

    def __enter__(self) -> _LiveView:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.live is not None:
            self.live.stop()
            if not self.live.console.is_terminal:
                # Off a terminal Live prints its last frame without ending the line.
                self.live.console.line()


def _watch(
    client: httpx.Client, stack: StackInfo, campaign_id: str, *, timeout: float, view: _LiveView
) -> dict[str, Any]:
    """Poll until the campaign finishes; the stack dying or the timeout ends the wait early."""
    deadline = time.monotonic() + timeout
    while True:
        stack.raise_if_failed()
        campaign = _get_campaign(client, campaign_id)
        view.update(campaign)
        if campaign.get("status") in FINISHED_STATUSES:
            return campaign
        if time.monotonic() >= deadline:
            counters = ", ".join(f"{k} {v}" for k, v in _counters(campaign).items())
            raise DemoError(
                f"campaign {campaign_id} did not end within {timeout:.0f} s "
                f"(status {campaign.get('status')}; {counters})"
            )
        time.sleep(POLL_INTERVAL_SECONDS)


# --------------------------------------------------------------------------- logs


class _DemoLogSink:
    """Every line to the log file; the runner's own lines and errors also to the console."""

    def __init__(self, stream: TextIO, path: Path, console: Console, width: int) -> None:
        self.stream = stream
        self.path = path
        self.echo = ConsoleSink(console, width=width)
        self.errors_echoed = 0
        self.lock = threading.Lock()

    def emit(self, source: str, line: str) -> None:
        with self.lock:
            self.stream.write(f"{source:<{self.echo.width}}| {line}\n")
            self.stream.flush()
            if source != RUNNER_SOURCE and not self._echo_error(line):
                return
        self.echo.emit(source, line)

    def _echo_error(self, line: str) -> bool:
        if not any(marker in line for marker in ERROR_MARKERS):
            return False
        self.errors_echoed += 1
        if self.errors_echoed == ERROR_ECHO_LIMIT + 1:
            self.echo.emit(RUNNER_SOURCE, f"further errors only in {self.path}")
        return self.errors_echoed <= ERROR_ECHO_LIMIT


@contextmanager
def _log_sink(options: DemoOptions, console: Console) -> Iterator[LogSink]:
    width = prefix_width(options.stack)
    if options.verbose:
        yield ConsoleSink(console, width=width)
        return
    path = devstack_root() / "demo.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as stream:
        console.print(f"[dim]process logs: {path}[/dim]")
        yield _DemoLogSink(stream, path, console, width)


# --------------------------------------------------------------------------- the command


def _run_campaign(options: DemoOptions, stack: StackInfo, console: Console) -> DemoSummary:
    body = campaign_body(demo_customers(options.contacts), max_concurrency=options.max_concurrency)
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    with httpx.Client(
        base_url=stack.api_url, headers=headers, timeout=30.0, trust_env=False
    ) as client:
        _set_pacing(client)
        started = time.monotonic()
        campaign_id = _create_campaign(client, body)
        console.print(
            f"campaign {campaign_id}: {options.contacts} contacts, "
            f"maxConcurrency {options.max_concurrency}, "
            f"{len(DEMO_PHONE_NUMBER_IDS)} caller numbers at {DEMO_CALLS_PER_SECOND:g} calls/s each"
        )
        with (
            _ended_on_exit(client, campaign_id, console),
            _LiveView(console, enabled=not options.as_json) as view,
        ):
            campaign = _watch(client, stack, campaign_id, timeout=options.timeout, view=view)
        return summarize(campaign, wall_seconds=time.monotonic() - started)


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
        text = escape(_error_text(response))
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
            campaign = _get_campaign(client, campaign_id)
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
            _log_sink(options, console) as sink,
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
