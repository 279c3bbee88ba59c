"""How a campaign looks in a terminal: rows of the list, and the summary ``get`` and ``watch``
print, built from ``GET /v2/campaign`` answers (Vapi's ``CampaignSummary`` and our extensions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

# The contact counters shown, in their lifecycle order, as ``contactCounters`` names them.
CONTACT_COUNTERS = ("pending", "dispatched", "completed", "failed", "skipped", "predialFailed")
# Why contacts wait, as the ``pacing`` insight names them, in words an operator reads.
WAITING_REASONS = {
    "paused": "campaign paused",
    "windowClosed": "outside the schedule window",
    "callingHours": "calling hours closed",
    "retryDelay": "waiting to retry",
    "frequencyCap": "frequency cap",
    "concurrency": "concurrency limit full",
    "rate": "caller number's rate",
    "predialCheck": "pre-dial check",
}
ENDED_STATUSES = ("ended", "cancelled", "archived")
# Written to a file or a pipe, a table is as wide as its rows: nothing cut for a script.
UNBOUNDED_WIDTH = 400


def print_table(table: Table) -> None:
    console = Console()
    if not console.is_terminal:
        console = Console(width=UNBOUNDED_WIDTH)
    console.print(table)


def counters_of(summary: Mapping[str, Any]) -> dict[str, int]:
    counters = summary.get("contactCounters") or {}
    return {name: int(counters.get(name) or 0) for name in (*CONTACT_COUNTERS, "total")}


def dialed_of(summary: Mapping[str, Any]) -> int:
    return int((summary.get("callMetrics") or {}).get("dialed") or 0)


def list_table(campaigns: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False)
    table.add_column("id", no_wrap=True)
    table.add_column("name")
    table.add_column("status")
    for name in (*CONTACT_COUNTERS[:5], "total"):
        table.add_column(name, justify="right")
    table.add_column("created", no_wrap=True)
    for campaign in campaigns:
        counters = counters_of(campaign)
        table.add_row(
            campaign["id"],
            campaign.get("name") or "",
            campaign["status"],
            *(str(counters[name]) for name in (*CONTACT_COUNTERS[:5], "total")),
            short_time(campaign.get("createdAt")),
        )
    return table


def short_time(value: str | None) -> str:
    """An ISO timestamp as ``2026-03-02 15:00:00Z`` (no milliseconds), or nothing."""
    if not value:
        return ""
    return value.replace("T", " ")[:19] + "Z"


def _counters_table(summary: Mapping[str, Any]) -> Table:
    counters = counters_of(summary)
    table = Table(box=None, pad_edge=False, show_header=True)
    for name in (*CONTACT_COUNTERS, "total"):
        table.add_column(name, justify="right")
    table.add_row(*(str(counters[name]) for name in (*CONTACT_COUNTERS, "total")))
    return table


def waiting_lines(pacing: Mapping[str, Any] | None) -> list[str]:
    """``pacing.waiting``, largest first, as ``reason: count`` lines."""
    waiting = (pacing or {}).get("waiting") or {}
    counts = [(name, count) for name, count in waiting.items() if isinstance(count, int) and count]
    counts.sort(key=lambda item: -item[1])
    return [f"{WAITING_REASONS.get(name, name)}: {count}" for name, count in counts]


def finish_line(summary: Mapping[str, Any], *, now: datetime | None = None) -> str:
    """When the campaign should finish, as the pacing insight estimates it."""
    if summary.get("status") in ENDED_STATUSES:
        return f"ended {summary.get('endedReason') or ''}".strip()
    at = (summary.get("pacing") or {}).get("estimatedFinishAt")
    if not at:
        return "unknown"
    finish = datetime.fromisoformat(at.replace("Z", "+00:00"))
    left = (finish - (now or datetime.now(UTC))).total_seconds()
    return f"{short_time(at)} (in {duration(max(left, 0.0))})"


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    """The campaign's identity and rates, one ``label: value`` line each."""
    metrics = summary.get("callMetrics") or {}
    pacing = summary.get("pacing") or {}
    lines = [
        f"campaign: {summary['id']}  {summary.get('name') or ''}".rstrip(),
        f"status: {summary['status']}",
        f"created: {short_time(summary.get('createdAt'))}",
        f"calls dialed: {metrics.get('dialed', 0)}  connected: {metrics.get('connected', 0)}",
    ]
    if "sustainableCallsPerSecond" in pacing:
        limit = pacing.get("limitedBy", "")
        lines.append(f"sustainable rate: {pacing['sustainableCallsPerSecond']} calls/s ({limit})")
    if summary.get("smsCounters"):
        texts = summary["smsCounters"]
        lines.append("texts: " + "  ".join(f"{k} {v}" for k, v in texts.items()))
    lines.append(f"estimated finish: {finish_line(summary)}")
    return lines


def summary_view(summary: Mapping[str, Any], *, extra: Sequence[str] = ()) -> RenderableType:
    """The summary ``get`` prints and each frame of ``watch``: lines, counters, waiting."""
    waiting = waiting_lines(summary.get("pacing")) or ["nothing waiting"]
    return Group(
        Text("\n".join([*summary_lines(summary), *extra])),
        Text(""),
        _counters_table(summary),
        Text(""),
        Text("why contacts wait:\n" + "\n".join(f"  {line}" for line in waiting)),
    )
