"""``orchestrator campaign create --csv``: over HTTP against a served app; a good file makes a
scheduled campaign with its customers, a refused one leaves nothing that could dial."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from orchestrator.campaigns.counters import counter_drift
from orchestrator.cli import app
from orchestrator.models import Campaign, CampaignStatus
from orchestrator.orgs.service import CreatedOrg
from tests.factories import customer_numbers
from tests.factories.contacts import contacts_of
from tests.support.servers import serve


@pytest.fixture
def api_url(api: TestClient) -> Iterator[str]:
    with serve(api.app, lifespan="off") as url:  # type: ignore[arg-type]
        yield url


def _create(api_url: str, org: CreatedOrg, csv_path: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        [
            "campaign",
            "create",
            "--csv",
            str(csv_path),
            "--assistant-id",
            "assistant-1",
            "--phone-number-id",
            "phone-1",
            *extra,
        ],
        env={"ORCH_API_URL": api_url, "ORCH_API_KEY": org.api_key},
    )
    return result.exit_code, result.output


def _campaigns(session: Session, org: CreatedOrg) -> list[Campaign]:
    stmt = select(Campaign).where(Campaign.org_id == org.org_id)
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def test_a_good_file_makes_a_scheduled_campaign_of_its_customers(
    api_url: str, org: CreatedOrg, session: Session, tmp_path: Path
) -> None:
    numbers = customer_numbers(3, start=1_000)
    csv_path = tmp_path / "spring list.csv"
    csv_path.write_text(
        "number,name,appointment date\n" + "".join(f"{n},Ada,Friday\n" for n in numbers)
    )
    code, output = _create(api_url, org, csv_path, "--max-concurrency", "2")
    assert code == 0, output
    assert "added 3 customers; 0 duplicates left out; 0 rows rejected" in output
    [campaign] = _campaigns(session, org)
    assert f"campaign {campaign.id}: scheduled" in output
    assert (campaign.status, campaign.name, campaign.max_concurrency) == (
        CampaignStatus.SCHEDULED,
        "spring list",
        2,
    )
    contacts = contacts_of(session, campaign_id=campaign.id)
    assert [contact.number for contact in contacts] == numbers
    assert contacts[0].customer["assistantOverrides"] == {
        "variableValues": {"appointment date": "Friday"}
    }
    assert counter_drift(session, campaign=campaign) == {}


def test_a_refused_file_leaves_no_campaign_to_dial_and_prints_why(
    api_url: str, org: CreatedOrg, session: Session, tmp_path: Path
) -> None:
    good = customer_numbers(1, start=1_100)[0]
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text(f"number,name\n{good},Ada\nnot-a-number,Bob\n")
    code, output = _create(api_url, org, csv_path)
    assert code == 1
    assert "row 3, column number: must be a valid E.164 phone number" in output
    [campaign] = _campaigns(session, org)
    assert campaign.status == CampaignStatus.ARCHIVED
    assert f"campaign {campaign.id} deleted" in output
    assert contacts_of(session, campaign_id=campaign.id) == []


def test_with_on_error_skip_the_good_rows_run_and_the_rejected_are_listed(
    api_url: str, org: CreatedOrg, session: Session, tmp_path: Path
) -> None:
    good = customer_numbers(1, start=1_200)[0]
    csv_path = tmp_path / "mixed.csv"
    csv_path.write_text(f"number\n{good}\n+1\n")
    code, output = _create(api_url, org, csv_path, "--on-error", "skip", "--name", "Mixed")
    assert code == 0, output
    assert "added 1 customers; 0 duplicates left out; 1 rows rejected" in output
    assert "row 3, column number:" in output
    [campaign] = _campaigns(session, org)
    assert (campaign.name, campaign.status, campaign.contacts_total) == ("Mixed", "scheduled", 1)
