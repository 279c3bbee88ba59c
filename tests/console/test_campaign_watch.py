"""``orchestrator campaign watch ID --once``: one frame of the live view, and how its rates
and final summary read from successive polls."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.console.campaign_watch import Sample, final_summary, rate_lines
from orchestrator.orgs.service import CreatedOrg
from tests.console.conftest import Cli
from tests.factories import customer_numbers, dispatch_campaign, make_campaign


def test_once_prints_one_frame_of_counters_rates_and_waiting(
    cli: Cli, session: Session, org: CreatedOrg
) -> None:
    customers = [{"number": n} for n in customer_numbers(14)]
    campaign_id = make_campaign(session, org=org, customers=customers, name="Watched")
    dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=50)

    frame = cli("campaign", "watch", str(campaign_id), "--once")
    assert frame.exit_code == 0, frame.output
    lines = frame.stdout.splitlines()
    assert lines[0] == f"campaign: {campaign_id}  Watched"
    assert "status: in-progress" in lines
    assert "in flight: 10" in lines
    assert "dialed/s: -  finished/s: -  (after the next poll)" in lines
    header = next(
        i for i, line in enumerate(lines) if line.split()[:2] == ["pending", "dispatched"]
    )
    assert lines[header + 1].split() == ["4", "10", "0", "0", "0", "0", "14"]
    assert "  concurrency limit full: 4" in lines


def test_rates_are_the_change_between_two_polls() -> None:
    summary = {"contactCounters": {"dispatched": 3}}
    before, now = Sample(at=10.0, dialed=5, finished=1), Sample(at=12.0, dialed=11, finished=4)
    lines = rate_lines(summary, before, now)
    assert lines[:2] == ["in flight: 3", "dialed/s: 3.0  finished/s: 1.5  (last 2.0s)"]


def test_the_final_summary_tells_the_outcome() -> None:
    summary = {
        "id": str(uuid.UUID(int=1)),
        "status": "ended",
        "endedReason": "campaign.ended.success",
        "contactCounters": {"completed": 7, "failed": 2, "skipped": 1, "total": 10},
        "callMetrics": {"dialed": 9, "connected": 7},
    }
    assert final_summary(summary, watched_seconds=75) == (
        f"campaign {uuid.UUID(int=1)} ended (campaign.ended.success): completed 7, failed 2,"
        " skipped 1 of 10; 9 dialed; watched 1m15s"
    )
