"""Acceptance: a CSV of 1,000,000 rows, 1,000 of them bad, appended to a campaign.

Refused whole, the answer names every bad row by its line; with ``onError=skip`` the 999,000
good rows are appended and the campaign's counters say so, as the recount does.

A million rows take minutes on a busy machine: this runs in ``make acceptance`` only
(``pytest -m acceptance``), and is skipped by a plain ``pytest``.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ops.bench.suppression_import_1m import bench_number
from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Campaign, Contact
from tests.factories import campaign_body
from tests.support.errors import error_messages

pytestmark = [pytest.mark.e2e, pytest.mark.acceptance]

ROWS = 1_000_000
# Every thousandth row has a number no country assigns.
BAD_EVERY = 1_000
BAD_NUMBER = "+19999"
HEADER = "number,name,appointment date\n"


@pytest.fixture(autouse=True)
def _only_when_acceptance_is_asked(request: pytest.FixtureRequest) -> None:
    expression = str(request.config.getoption("markexpr") or "")
    if "acceptance" not in expression or "not acceptance" in expression:
        pytest.skip("a million rows: run by make acceptance (pytest -m acceptance)")


def _bad(index: int) -> bool:
    return index % BAD_EVERY == BAD_EVERY - 1


def _csv() -> Iterator[bytes]:
    yield HEADER.encode()
    for start in range(0, ROWS, 10_000):
        lines = (
            f"{BAD_NUMBER if _bad(i) else bench_number(i)},Customer {i},Friday\n"
            for i in range(start, start + 10_000)
        )
        yield "".join(lines).encode()


def _append(api: TestClient, auth: dict[str, str], campaign_id: str, on_error: str) -> Response:
    response: Response = api.post(
        f"/campaign/{campaign_id}/customers",
        content=_csv(),
        params={"onError": on_error},
        headers={**auth, "Content-Type": "text/csv"},
    )
    return response


def test_a_million_rows_with_a_thousand_bad_ones(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    body = campaign_body(status="paused")
    del body["customers"]
    created = api.post("/campaign", json=body, headers=auth).json()
    bad_lines = [i + 2 for i in range(ROWS) if _bad(i)]

    refused = _append(api, auth, created["id"], "fail")
    messages = error_messages(refused, 400)
    assert messages == [
        *(f"row {line}, column number: must be a valid E.164 phone number" for line in bad_lines),
        "1000 problems in 1000 rows: nothing added",
    ]
    contacts = select(func.count()).where(Contact.campaign_id == uuid.UUID(created["id"]))
    assert session.scalar(contacts) == 0

    skipped = _append(api, auth, created["id"], "skip")
    assert skipped.status_code == 201, skipped.text[:2000]
    answer = skipped.json()
    assert (answer["added"], answer["duplicates"], answer["rejected"]) == (999_000, 0, 1_000)
    assert [error["row"] for error in answer["errors"]] == bad_lines
    assert answer["errorCount"] == 1_000
    assert session.scalar(contacts) == 999_000

    # The campaign's counters as the API reports them, recounted from the rows in one go
    # (its v1 read would list all 999,000 customers).
    reconciled = api.post(f"/campaign/{created['id']}/reconcile", headers=auth).json()
    assert reconciled["drift"] == {}
    assert reconciled["counters"]["callsCounterScheduled"] == 999_000
    campaign = session.get(Campaign, uuid.UUID(created["id"]), populate_existing=True)
    assert campaign is not None
    assert campaign.contacts_total == 999_000
    assert counter_drift(session, campaign=campaign) == {}
    # The v2 read (no customers in it) counts them too.
    summary = api.get(f"/v2/campaign/{created['id']}", headers=auth).json()
    assert summary["contactCounters"]["pending"] == 999_000
    assert summary["contactCounters"]["total"] == 999_000

    _export_matches_the_rows(api, auth, created["id"])


def _export_matches_the_rows(api: TestClient, auth: dict[str, str], campaign_id: str) -> None:
    """The export streams one line per contact, in the file's order, each as it was given."""
    expected = ((bench_number(i), f"Customer {i}") for i in range(ROWS) if not _bad(i))
    lines = 0
    with api.stream("GET", f"/campaign/{campaign_id}/export", headers=auth) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = csv.reader(response.iter_lines())
        header = next(rows)
        number, name, status = (header.index(c) for c in ("number", "name", "status"))
        appointment = header.index("appointment date")
        for row, (want_number, want_name) in zip(rows, expected, strict=True):
            assert (row[number], row[name]) == (want_number, want_name), lines
            assert (row[status], row[appointment]) == ("contact.pending", "Friday"), lines
            lines += 1
    assert lines == 999_000
