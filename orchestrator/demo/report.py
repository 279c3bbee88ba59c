"""What the demo prints at the end: the outcome, and its counters checked against a recount."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

IN_PROGRESS_CALL_STATUSES = frozenset({"ringing", "in-progress", "forwarding"})


@dataclass(frozen=True)
class DemoSummary:
    campaign_id: str
    status: str
    wall_seconds: float
    ended_reasons: dict[str, int]
    contacts: dict[str, int]
    calls_ended: int
    mismatches: list[str]
    # Act two's follow-up texts: queued, sent, failed, replied, optedOut.
    texts: dict[str, int] = field(default_factory=dict)

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
            "texts": self.texts,
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


def follow_up_mismatches(
    campaign: Mapping[str, Any], *, follow_up_on: Collection[str]
) -> list[str]:
    """Act two's check: one text for each customer whose (only) call ended as the campaign's
    follow-up plan names, sent or refused, none left waiting."""
    texts = campaign.get("smsCounters")
    if texts is None:
        return []
    due = sum(1 for call in _calls(campaign) if call.get("endedReason") in follow_up_on)
    made = int(texts.get("sent", 0)) + int(texts.get("failed", 0)) + int(texts.get("queued", 0))
    problems = [f"{made} follow-up texts for {due} customers due one"] if made != due else []
    if texts.get("queued"):
        problems.append(f"{texts['queued']} follow-up texts still queued")
    return problems


def summarize(
    campaign: Mapping[str, Any], *, wall_seconds: float, follow_up_on: Collection[str] = ()
) -> DemoSummary:
    reasons = Counter(str(call.get("endedReason") or "(none)") for call in _calls(campaign))
    return DemoSummary(
        campaign_id=str(campaign["id"]),
        status=str(campaign.get("status")),
        wall_seconds=wall_seconds,
        ended_reasons=dict(reasons.most_common()),
        contacts=dict(campaign.get("contactCounters") or {}),
        calls_ended=int(campaign.get("callsCounterEnded", 0)),
        mismatches=counter_mismatches(campaign)
        + follow_up_mismatches(campaign, follow_up_on=follow_up_on),
        texts=dict(campaign.get("smsCounters") or {}),
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
    texts = summary.texts
    console.print(
        f"texts      sent {texts.get('sent', 0)}, failed {texts.get('failed', 0)}, "
        f"replies {texts.get('replied', 0)}, opt-outs {texts.get('optedOut', 0)}"
    )
    if summary.mismatches:
        console.print("[red]check      counters or texts differ from a recount of the calls:[/red]")
        for problem in summary.mismatches:
            console.print(f"           [red]{escape(problem)}[/red]")
    else:
        console.print("check      [green]counters and texts equal a recount of the calls[/green]")
