"""``orchestrator suppression add|remove|import|export`` through the API (no ``--org``)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from orchestrator.console import suppression_commands
from orchestrator.orgs.service import CreatedOrg
from tests.console.conftest import Cli
from tests.factories import make_org, suppress, suppression_entries


def _listed(session: Session, org: CreatedOrg) -> dict[str, tuple[str, str | None]]:
    session.expire_all()
    entries = suppression_entries(session, org_id=org.org_id)
    return {number: (entry.reason, entry.source) for number, entry in entries.items()}


def test_numbers_are_added_and_removed(cli: Cli, session: Session, org: CreatedOrg) -> None:
    added = cli("suppression", "add", "+14155550100", "+1 (415) 555-0101", "--reason", "dnc")
    assert (added.exit_code, added.stdout) == (0, "added 2, already present 0\n")
    again = cli("suppression", "add", "+14155550100", "--reason", "opt-out", "--source", "call")
    assert again.stdout == "added 0, already present 1\n"
    assert _listed(session, org) == {
        "+14155550100": ("opt-out", "call"),
        "+14155550101": ("dnc", None),
    }
    removed = cli("suppression", "remove", "+14155550101")
    assert (removed.exit_code, removed.stdout) == (0, "removed +14155550101 (dnc)\n")
    assert set(_listed(session, org)) == {"+14155550100"}

    missing = cli("suppression", "remove", "+14155550101")
    assert missing.exit_code == 1 and missing.stderr.startswith("error: ")
    invalid = cli("suppression", "add", "call me", "--reason", "dnc")
    assert invalid.exit_code == 1 and "error: " in invalid.stderr
    assert set(_listed(session, org)) == {"+14155550100"}


def test_a_file_is_imported_in_chunks_and_exported_by_pages(
    cli: Cli,
    session: Session,
    org: CreatedOrg,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(suppression_commands, "MAX_NUMBERS", 7)
    monkeypatch.setattr(suppression_commands, "PAGE_SIZE", 4)
    numbers = [f"+1415555{i:04d}" for i in range(20)]
    path = tmp_path / "list.csv"
    path.write_text("\ufeffName,Number\n" + "".join(f"n{i},{n}\n" for i, n in enumerate(numbers)))

    imported = cli(
        "suppression", "import", str(path), "--reason", "dnc", "--source", "registry", "--json"
    )
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout) == {
        "added": 20,
        "alreadyPresent": 0,
        "invalid": 0,
        "invalidLines": [],
    }
    assert _listed(session, org) == dict.fromkeys(numbers, ("dnc", "registry"))

    exported = cli("suppression", "export")
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [r["number"] for r in rows] == numbers
    assert set(rows[0]) == {"number", "reason", "source", "created_at", "expires_at"}
    assert rows[0]["created_at"].endswith("Z") and rows[0]["expires_at"] == ""
    assert "20 entries exported" in exported.stderr
    again = tmp_path / "again.csv"
    again.write_text(exported.stdout)
    assert cli("suppression", "import", str(again), "--reason", "dnc").stdout == (
        "added 0, already present 20\n"
    )


def test_an_invalid_row_sends_nothing_unless_skipped(
    cli: Cli, session: Session, org: CreatedOrg, tmp_path: Path
) -> None:
    path = tmp_path / "list.csv"
    path.write_text("number\n+14155550101\ncall me\n\n+14155550102\n")

    refused = cli("suppression", "import", str(path), "--reason", "dnc")
    assert refused.exit_code == 1
    assert "line 3: 'call me' is not a valid number" in refused.stderr
    assert _listed(session, org) == {}
    skipped = cli("suppression", "import", str(path), "--reason", "dnc", "--skip-invalid")
    assert skipped.exit_code == 0, skipped.output
    assert skipped.stdout.startswith("added 2, already present 0\nskipped 1 invalid rows:\n")
    assert set(_listed(session, org)) == {"+14155550101", "+14155550102"}


def test_a_refused_key_is_an_error_and_exit_1(cli: Cli) -> None:
    answer = cli("suppression", "export", api_key="wrong")
    assert answer.exit_code == 1 and answer.stderr.startswith("error: ")


def test_export_reads_only_the_keys_org(cli: Cli, session: Session, org: CreatedOrg) -> None:
    other = make_org(session, name="other-suppression")
    suppress(session, org=other, numbers=["+14155550199"], reason="dnc", source=None)
    suppress(session, org=org, numbers=["+14155550100"], reason="legal", source="court")
    session.flush()
    rows = list(csv.DictReader(io.StringIO(cli("suppression", "export").stdout)))
    assert [(r["number"], r["reason"], r["source"]) for r in rows] == [
        ("+14155550100", "legal", "court")
    ]
