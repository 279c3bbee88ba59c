"""``orchestrator suppression import`` and ``export`` against the real test database."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from orchestrator.cli import app
from orchestrator.models import Org
from tests.factories import make_org, suppress, suppress_rows, suppression_entries

DAY = timedelta(days=1)


def _org(engine: Engine) -> uuid.UUID:
    with Session(engine) as session:
        org = make_org(session, name=f"cli-suppression-{uuid.uuid4()}")
        suppress(session, org=org, numbers=["+14155550100"], reason="opt-out", source="call")
        session.commit()
    return org.org_id


def _forget(engine: Engine, org_id: uuid.UUID) -> None:
    with Session(engine) as session:
        session.execute(delete(Org).where(Org.id == org_id))
        session.commit()


def _entries(engine: Engine, org_id: uuid.UUID) -> dict[str, tuple[str, str | None]]:
    with Session(engine) as session:
        entries = suppression_entries(session, org_id=org_id)
    return {number: (e.reason, e.source) for number, e in entries.items()}


def _import(
    org_id: uuid.UUID | str, path: Path, *args: str, reason: str = "dnc"
) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["suppression", "import", str(path), "--org", str(org_id), "--reason", reason, *args]
    )
    return result.exit_code, result.output


def test_a_file_is_imported_normalised_and_exported_again(engine: Engine, tmp_path: Path) -> None:
    org_id = _org(engine)
    path = tmp_path / "list.csv"
    path.write_text(
        "\ufeffname,Number,note\n"
        'Ada,+14155550100,"already, there"\n'
        "Bo,+1 (415) 555-0101,\n"
        "Cy,0014155550102,x\n"
        "Bo again,+14155550101,\n"
    )
    try:
        code, output = _import(org_id, path, "--source", "registry", "--json")
        assert code == 0, output
        assert json.loads(output) == {
            "added": 2,
            "alreadyPresent": 1,
            "invalid": 0,
            "invalidLines": [],
        }
        assert _entries(engine, org_id) == {
            "+14155550100": ("opt-out", "call"),
            "+14155550101": ("dnc", "registry"),
            "+14155550102": ("dnc", "registry"),
        }
        exported = CliRunner().invoke(
            app, ["suppression", "export", "--org", str(org_id), "--reason", "dnc"]
        )
        assert exported.exit_code == 0, exported.output
        rows = list(csv.DictReader(io.StringIO(exported.stdout)))
        assert [(r["number"], r["source"], r["expires_at"]) for r in rows] == [
            ("+14155550101", "registry", ""),
            ("+14155550102", "registry", ""),
        ]
        assert rows[0]["created_at"].endswith("Z")
        again = tmp_path / "again.csv"
        again.write_text(exported.stdout)
        assert _import(org_id, again)[1].strip() == "added 0, already present 2"
    finally:
        _forget(engine, org_id)


def test_an_invalid_row_fails_the_import_unless_skipped(engine: Engine, tmp_path: Path) -> None:
    org_id = _org(engine)
    path = tmp_path / "list.csv"
    rows = ["+14155550101", "4155550102", "", "+14155550103", "call me"] + ["x"] * 12
    path.write_text("number\n" + "\n".join(rows) + "\n\n")
    try:
        code, output = _import(org_id, path)
        assert code == 2
        assert "line 3: '4155550102' is not a valid phone number" in output
        assert "line 4: an empty number" not in output, "a blank line is no row"
        assert "line 6: 'call me'" in output and "... and 4 more invalid rows" in output
        assert set(_entries(engine, org_id)) == {"+14155550100"}, "nothing was written"
        code, output = _import(org_id, path, "--skip-invalid", "--json")
        assert code == 0, output
        assert json.loads(output) == {
            "added": 2,
            "alreadyPresent": 0,
            "invalid": 14,
            "invalidLines": [3, 6, 7, 8, 9, 10, 11, 12, 13, 14],
        }
    finally:
        _forget(engine, org_id)


def test_a_file_that_cannot_be_read_is_an_error(engine: Engine, tmp_path: Path) -> None:
    org_id = _org(engine)
    no_header = tmp_path / "no-header.csv"
    no_header.write_text("+14155550101\n")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("number,name\n+14155550101,Ada,extra\n")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"number\n+1415555\xff0101\n")
    try:
        assert "must name a 'number' column" in _import(org_id, no_header)[1]
        code, output = _import(org_id, ragged)
        assert code == 2 and "extra data after last expected column" in output
        assert "line 2" in output
        assert _import(org_id, binary)[0] == 2
        assert "No such file" in _import(org_id, tmp_path / "missing.csv")[1]
        code, output = _import(org_id, ragged, "--expires-at", "2020-01-01T00:00:00Z")
        assert code == 2 and "--expires-at must be in the future" in output
        assert set(_entries(engine, org_id)) == {"+14155550100"}
    finally:
        _forget(engine, org_id)
    assert "Org not found" in _import(org_id, ragged)[1]
    assert "--org must be an org's id" in _import("acme", ragged)[1]


def _expiries(engine: Engine, org_id: uuid.UUID) -> dict[str, tuple[str, datetime | None]]:
    with Session(engine) as session:
        entries = suppression_entries(session, org_id=org_id)
    return {number: (e.reason, e.expires_at) for number, e in entries.items()}


def test_an_import_over_live_entries_keeps_the_later_expiry_and_an_opt_out_takes_over(
    engine: Engine, tmp_path: Path
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    week, year = now + timedelta(days=7), now + timedelta(days=365)
    with Session(engine) as session:
        org = make_org(session, name=f"cli-expiries-{uuid.uuid4()}")
        suppress(session, org=org, numbers=["+14155550101"], reason="other", expires_at=week)
        suppress(session, org=org, numbers=["+14155550102"], reason="legal", expires_at=year)
        suppress_rows(session, org=org, numbers=["+14155550103"], expires_at=now - DAY)
        session.commit()
    path = tmp_path / "list.csv"
    path.write_text("number\n+14155550101\n+1 415 555 0102\n+14155550103\n")
    try:
        code, output = _import(org.org_id, path, "--expires-at", (now + 30 * DAY).isoformat())
        assert (code, output.strip()) == (0, "added 1, already present 2")
        assert _expiries(engine, org.org_id) == {
            "+14155550101": ("other", now + 30 * DAY),
            "+14155550102": ("legal", year),
            "+14155550103": ("dnc", now + 30 * DAY),
        }
        code, output = _import(org.org_id, path, "--source", "IVR", reason="opt-out")
        assert (code, output.strip()) == (0, "added 0, already present 3")
        assert _entries(engine, org.org_id) == dict.fromkeys(
            ["+14155550101", "+14155550102", "+14155550103"], ("opt-out", "IVR")
        )
        assert {e for _, e in _expiries(engine, org.org_id).values()} == {None}
    finally:
        _forget(engine, org.org_id)


def test_numbers_not_shaped_like_e164_are_imported_canonical_the_others_as_written(
    engine: Engine, tmp_path: Path
) -> None:
    org_id = _org(engine)
    path = tmp_path / "list.csv"
    path.write_text("number\n+44 020 7946 0958\n+4402079460958\n+10000000000\n")
    try:
        assert _import(org_id, path)[0] == 0
        assert set(_entries(engine, org_id)) == {
            "+14155550100",
            "+442079460958",
            "+4402079460958",
            "+10000000000",
        }
    finally:
        _forget(engine, org_id)
