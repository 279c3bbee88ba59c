"""Vapi's TypeScript SDK runs a v2 campaign's whole life against the API over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from orchestrator.orgs.service import CreatedOrg
from tests.factories import customer_numbers
from tests.support.servers import serve
from tests.support.ts_sdk import run_ts_sdk


def test_the_typescript_sdk_creates_lists_gets_pages_cancels_and_deletes_a_v2_campaign(
    api: TestClient, org: CreatedOrg
) -> None:
    numbers = customer_numbers(3, start=9_300)
    with serve(api.app, lifespan="off") as base_url:  # type: ignore[arg-type]
        seen = run_ts_sdk("campaigns_v2.cjs", base_url, org.api_key, "ts-1", *numbers)

    created = seen["created"]
    assert (created["status"], created["phoneNumberId"]) == ("scheduled", "ts-1")
    assert [c["number"] for c in created["customers"]] == numbers
    listed = seen["listed"]
    assert [c["id"] for c in listed["results"]] == [created["id"]]
    assert listed["results"][0]["contactCounters"]["pending"] == 3
    assert listed["metadata"]["totalItems"] == 1
    got = seen["got"]
    assert got["contactCounters"]["total"] == 3
    assert got["callMetrics"] == {"dialed": 0, "connected": 0}
    # Page 2 of 2 in dial order: the third contact alone.
    page = seen["contacts"]
    assert [c["number"] for c in page["results"]] == numbers[2:]
    assert page["results"][0]["status"] == "contact.pending"
    assert (page["metadata"]["currentPage"], page["metadata"]["totalItems"]) == (2, 3)
    assert seen["cancelled"]["status"] == "cancelled"
    assert [c["skipReason"] for c in seen["skipped"]["results"]] == ["ended-by-user"] * 3
    assert seen["deleted"]["status"] == "archived"
