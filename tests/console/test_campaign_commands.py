"""``orchestrator campaign list|get|pause|resume|cancel|export`` over HTTP: what they print,
what they change, and their exit codes."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.orgs.service import CreatedOrg
from tests.console.conftest import Cli
from tests.factories import customer_numbers, dispatch_campaign, make_campaign, make_org


def _campaign(session: Session, org: CreatedOrg, count: int = 5, **body: object) -> str:
    customers = [{"number": n, "name": f"C{i}"} for i, n in enumerate(customer_numbers(count))]
    return str(make_campaign(session, org=org, customers=customers, **body))


def test_list_shows_the_orgs_campaigns_with_counters(
    cli: Cli, session: Session, org: CreatedOrg
) -> None:
    first = _campaign(session, org, 4, name="Spring reminders")
    second = _campaign(session, org, 2, name="Flu shots")
    dispatch_campaign(session, campaign_id=uuid.UUID(first), now=utcnow(), batch_limit=50)
    make_campaign(session, org=make_org(session, name=f"other-{uuid.uuid4()}"))

    shown = cli("campaign", "list")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0].split() == [
        "id",
        "name",
        "status",
        "pending",
        "dispatched",
        "completed",
        "failed",
        "skipped",
        "total",
        "created",
    ]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {first, second}
    assert rows[first][1:3] == ["Spring", "reminders"]
    assert rows[first][3:10] == ["in-progress", "0", "4", "0", "0", "0", "4"]
    assert "page 1 of 1, 2 campaigns" in shown.stderr

    as_json = json.loads(cli("campaign", "list", "--json").stdout)
    assert [c["id"] for c in as_json] == [second, first]
    assert as_json[1]["contactCounters"]["dispatched"] == 4
    paused = cli("campaign", "list", "--status", "paused", "--json")
    assert json.loads(paused.stdout) == []


def test_get_shows_counters_waiting_and_the_estimated_finish(
    cli: Cli, api: TestClient, session: Session, org: CreatedOrg
) -> None:
    campaign_id = _campaign(session, org, 12)
    dispatch_campaign(session, campaign_id=uuid.UUID(campaign_id), now=utcnow(), batch_limit=50)

    shown = cli("campaign", "get", campaign_id)
    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    assert f"campaign: {campaign_id}  Spring reminders" in text
    assert "status: in-progress" in text
    assert "estimated finish: " in text and "estimated finish: unknown" not in text
    counters = text.splitlines()[text.splitlines().index("") + 2].split()
    assert counters == ["2", "10", "0", "0", "0", "0", "12"]
    assert "why contacts wait:" in text and "concurrency limit full: 2" in text

    as_json = json.loads(cli("campaign", "get", campaign_id, "--json").stdout)
    assert as_json["contactCounters"]["dispatched"] == 10
    assert as_json["pacing"]["waiting"]["concurrency"] == 2


def test_pause_resume_and_cancel_change_the_status_or_say_why_not(
    cli: Cli, session: Session, org: CreatedOrg
) -> None:
    campaign_id = _campaign(session, org)

    paused = cli("campaign", "pause", campaign_id)
    assert (paused.exit_code, paused.stdout) == (0, f"campaign {campaign_id}: paused\n")
    again = cli("campaign", "pause", campaign_id)
    assert again.exit_code == 1
    assert "error: campaign is already paused" in again.stderr
    resumed = cli("campaign", "resume", campaign_id)
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.endswith(": scheduled\n") or resumed.stdout.endswith(": in-progress\n")
    cancelled = cli("campaign", "cancel", campaign_id)
    assert cancelled.exit_code == 0, cancelled.output
    assert json.loads(cli("campaign", "get", campaign_id, "--json").stdout)["status"] == "cancelled"
    refused = cli("campaign", "resume", campaign_id)
    assert refused.exit_code == 1
    assert "status cannot be changed: campaign is cancelled" in refused.stderr


def test_an_unknown_campaign_or_no_key_is_an_error_and_exit_1(
    cli: Cli, session: Session, org: CreatedOrg, tmp_path: Path
) -> None:
    theirs = str(make_campaign(session, org=make_org(session, name=f"other-{uuid.uuid4()}")))
    for command in ("get", "pause", "resume", "cancel", "watch", "events"):
        for campaign_id in (theirs, str(uuid.uuid4())):
            answer = cli(
                "campaign", command, campaign_id, *(["--once"] if command == "watch" else [])
            )
            assert answer.exit_code == 1, (command, answer.output)
            assert answer.stderr == "error: Campaign not found\n", command
    output = tmp_path / "never.csv"
    exported = cli("campaign", "export", theirs, "-o", str(output))
    assert (exported.exit_code, exported.stderr) == (1, "error: Campaign not found\n")
    assert not output.exists()
    refused = cli("campaign", "list", api_key="not-a-key")
    assert refused.exit_code == 1 and refused.stderr.startswith("error: ")
    unreachable = Cli("http://127.0.0.1:9", "key")("campaign", "list")
    assert unreachable.exit_code == 1
    assert "cannot reach the API at http://127.0.0.1:9" in unreachable.stderr


def test_export_writes_the_csv_to_a_file_or_standard_output(
    cli: Cli,
    api: TestClient,
    auth: dict[str, str],
    session: Session,
    org: CreatedOrg,
    tmp_path: Path,
) -> None:
    campaign_id = _campaign(session, org, 30)
    expected = api.get(f"/campaign/{campaign_id}/export", headers=auth).text
    output = tmp_path / "out.csv"

    written = cli("campaign", "export", campaign_id, "-o", str(output))
    assert written.exit_code == 0, written.output
    assert output.read_text() == expected
    assert f"bytes written to {output}" in written.stderr
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    assert [r["number"] for r in rows] == customer_numbers(30)
    to_stdout = cli("campaign", "export", campaign_id, "-o", "-")
    assert (to_stdout.exit_code, to_stdout.stdout) == (0, expected)
