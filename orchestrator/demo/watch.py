"""Watching the campaign: a live view of its progress, polled until it finishes."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx
from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orchestrator.demo.api import DemoError, get_campaign
from orchestrator.runner import StackInfo

POLL_INTERVAL_SECONDS = 0.5
FINISHED_STATUSES = frozenset({"ended", "cancelled", "archived"})
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


class LiveView:
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

    def __enter__(self) -> LiveView:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.live is not None:
            self.live.stop()
            if not self.live.console.is_terminal:
                # Off a terminal Live prints its last frame without ending the line.
                self.live.console.line()


def watch(
    client: httpx.Client, stack: StackInfo, campaign_id: str, *, timeout: float, view: LiveView
) -> dict[str, Any]:
    """Poll until the campaign finishes; the stack dying or the timeout ends the wait early."""
    deadline = time.monotonic() + timeout
    while True:
        stack.raise_if_failed()
        campaign = get_campaign(client, campaign_id)
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


# The customers' replies come within a fraction of a second in the demo's profile: the webhooks
# that carry them are applied by then too.
REPLIES_SETTLE_SECONDS = 3.0


def watch_texts(
    client: httpx.Client, stack: StackInfo, campaign_id: str, *, timeout: float
) -> dict[str, Any]:
    """Act two: poll until every follow-up text is sent or failed, then let replies arrive."""
    deadline = time.monotonic() + timeout
    while True:
        stack.raise_if_failed()
        campaign = get_campaign(client, campaign_id)
        texts = campaign.get("smsCounters") or {}
        if not texts.get("queued"):
            time.sleep(REPLIES_SETTLE_SECONDS)
            return get_campaign(client, campaign_id)
        if time.monotonic() >= deadline:
            raise DemoError(
                f"campaign {campaign_id}: {texts.get('queued')} follow-up texts still queued "
                f"after {timeout:.0f} s"
            )
        time.sleep(POLL_INTERVAL_SECONDS)
