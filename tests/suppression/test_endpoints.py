"""``/suppression`` over HTTP: adding numbers all or nothing, idempotently; the list, one
entry, removing it; every answer in the caller's org only."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.clock import ManualClock
from orchestrator.orgs.service import CreatedOrg
from orchestrator.wire import iso
from tests.factories import (
    customer_numbers,
    make_org,
    suppress,
    suppress_rows,
    suppression_entries,
)

DAY = timedelta(days=1)


def _add(api: TestClient, auth: dict[str, str], **body: object) -> tuple[int, object]:
    response = api.post("/suppression", json={"reason": "dnc", **body}, headers=auth)
    return response.status_code, response.json()


def test_numbers_are_added_normalised_and_again_are_already_present(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    numbers = ["+14155550100", "+1 (415) 555-0101", "001.415.555.0102", "+14155550100"]
    status, answer = _add(api, auth, numbers=numbers, source="registry 2026-03")
    assert (status, answer) == (200, {"added": 3, "alreadyPresent": 0})
    status, answer = _add(api, auth, numbers=["+14155550101", "+14155550103"], reason="legal")
    assert (status, answer) == (200, {"added": 1, "alreadyPresent": 1})
    entries = suppression_entries(session, org_id=org.org_id)
    assert sorted(entries) == [f"+1415555010{i}" for i in range(4)]
    kept = entries["+14155550101"]
    assert (kept.reason, kept.source) == ("dnc", "registry 2026-03"), "a live entry is kept"


def test_every_invalid_number_is_listed_and_nothing_is_written(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    numbers = ["+14155550100", "4155550101", "+1415", "hello", "+1 415 555 0102\x00", "+999123"]
    status, answer = _add(api, auth, numbers=numbers)
    assert status == 400
    assert answer == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": [f"numbers.{i} must be a valid E.164 phone number" for i in range(1, 6)],
    }
    assert suppression_entries(session, org_id=org.org_id) == {}


def test_a_long_list_of_invalid_numbers_is_capped(api: TestClient, auth: dict[str, str]) -> None:
    status, answer = _add(api, auth, numbers=["nope"] * 2500)
    assert status == 400 and isinstance(answer, dict)
    assert len(answer["message"]) == 1001
    assert answer["message"][-1] == "... and 1500 more invalid numbers"


def test_the_body_is_checked_whole(api: TestClient, auth: dict[str, str]) -> None:
    status, answer = _add(api, auth, numbers=[], reason="spam", expiresAt="2030-01-01T00:00:00")
    assert status == 400 and isinstance(answer, dict)
    assert answer["message"] == [
        "numbers List should have at least 1 item after validation, not 0",
        "reason must be one of the following values: opt-out, dnc, complaint, legal, other",
        "expiresAt must include a timezone offset (e.g. Z)",
    ]
    status, answer = _add(api, auth, numbers=["+14155550100"], expiresAt="2020-01-01T00:00:00Z")
    assert (status, answer) == (
        400,
        {"statusCode": 400, "error": "Bad Request", "message": ["expiresAt must be in the future"]},
    )


def test_a_hundred_thousand_numbers_are_added_in_one_request(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    numbers = customer_numbers(100_000)
    status, answer = _add(api, auth, numbers=numbers)
    assert (status, answer) == (200, {"added": 100_000, "alreadyPresent": 0})
    too_many = api.post("/suppression", json={"numbers": [*numbers, "+1"], "reason": "dnc"})
    assert too_many.status_code in (400, 401)


def test_an_expired_entry_is_replaced_and_listed_inactive_until_then(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session, clock: ManualClock
) -> None:
    later = clock.now + timedelta(hours=1)
    suppress(session, org=org, numbers=["+14155550100"], reason="complaint", expires_at=later)
    clock.advance(2 * 3600)
    listed = api.get("/suppression", headers=auth).json()["results"]
    assert [(e["number"], e["active"], e["expiresAt"]) for e in listed] == [
        ("+14155550100", False, "2026-03-02T16:00:00.000Z")
    ]
    status, answer = _add(api, auth, numbers=["+14155550100"], reason="opt-out")
    assert (status, answer) == (200, {"added": 1, "alreadyPresent": 0})
    entry = api.get("/suppression/+14155550100", headers=auth).json()
    assert entry == {
        "number": "+14155550100",
        "reason": "opt-out",
        "source": None,
        "createdAt": "2026-03-02T17:00:00.000Z",
        "expiresAt": None,
        "active": True,
    }


def test_the_list_is_paged_and_filtered(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    suppress(session, org=org, numbers=customer_numbers(5), reason="dnc")
    suppress(session, org=org, numbers=customer_numbers(2, start=5), reason="legal")
    page = api.get("/suppression", params={"limit": 2, "page": 2}, headers=auth).json()
    assert [e["number"] for e in page["results"]] == customer_numbers(2, start=2)
    assert page["metadata"] == {
        "itemsPerPage": 2,
        "totalItems": 7,
        "currentPage": 2,
        "totalPages": 4,
        "hasNextPage": True,
        "sortOrder": "ASC",
    }
    legal = api.get("/suppression", params={"reason": "legal"}, headers=auth).json()
    assert [e["number"] for e in legal["results"]] == customer_numbers(2, start=5)
    one = api.get("/suppression", params={"number": "+1 415 555 0003"}, headers=auth).json()
    assert [e["number"] for e in one["results"]] == ["+14155550003"]
    bad = api.get("/suppression", params={"number": "12", "limit": 0}, headers=auth)
    assert bad.status_code == 400
    assert bad.json()["message"] == ["limit must not be less than 1"]
    bad = api.get("/suppression", params={"number": "12"}, headers=auth)
    assert bad.json()["message"] == ["number must be a valid E.164 phone number"]


def test_one_entry_is_read_and_removed_by_its_number_encoded_or_not(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    suppress(session, org=org, numbers=["+14155550100"], source="call")
    assert api.get("/suppression/%2B14155550100", headers=auth).json()["source"] == "call"
    assert api.get("/suppression/+14155550100", headers=auth).status_code == 200
    removed = api.delete("/suppression/%2B14155550100", headers=auth)
    assert removed.status_code == 200 and removed.json()["number"] == "+14155550100"
    assert suppression_entries(session, org_id=org.org_id) == {}
    for method in ("GET", "DELETE"):
        for number in ("%2B14155550100", "not-a-number"):
            missing = api.request(method, f"/suppression/{number}", headers=auth)
            assert missing.status_code == 404
            assert missing.json() == {
                "statusCode": 404,
                "error": "Not Found",
                "message": "Number not on the suppression list",
            }


def test_another_orgs_list_is_out_of_reach(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    other = make_org(session, name="other")
    suppress(session, org=other, numbers=["+14155550100"])
    assert api.get("/suppression", headers=auth).json()["results"] == []
    assert api.get("/suppression/+14155550100", headers=auth).status_code == 404
    assert api.delete("/suppression/+14155550100", headers=auth).status_code == 404
    assert _add(api, auth, numbers=["+14155550100"])[1] == {"added": 1, "alreadyPresent": 0}
    assert api.get("/suppression").status_code == 401


def test_a_live_entry_keeps_the_later_expiry_and_an_opt_out_takes_it_over(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session, clock: ManualClock
) -> None:
    week, month = clock.now + timedelta(days=7), clock.now + timedelta(days=30)
    expiring, permanent, expired = customer_numbers(3)
    suppress(session, org=org, numbers=[expiring], reason="other", expires_at=week)
    suppress(session, org=org, numbers=[permanent], reason="dnc", source="registry")
    suppress(session, org=org, numbers=[expired], reason="other", expires_at=week)
    clock.advance(8 * 86400)
    status, answer = _add(api, auth, numbers=[expiring], reason="legal", expiresAt=iso(month))
    assert (status, answer) == (200, {"added": 1, "alreadyPresent": 0}), "it had expired"
    suppress(session, org=org, numbers=[expiring], reason="other", expires_at=clock.now + DAY)
    status, answer = _add(api, auth, numbers=[permanent, expired], expiresAt=iso(month))
    assert (status, answer) == (200, {"added": 1, "alreadyPresent": 1})

    entries = suppression_entries(session, org_id=org.org_id)
    assert {n: (e.reason, e.source, e.expires_at) for n, e in entries.items()} == {
        expiring: ("legal", None, month),
        permanent: ("dnc", "registry", None),
        expired: ("dnc", None, month),
    }, "a live entry keeps the later expiry, never an earlier one"
    created = entries[expiring].created_at
    status, answer = _add(api, auth, numbers=[expiring], reason="complaint")
    assert (status, answer) == (200, {"added": 0, "alreadyPresent": 1})
    entry = suppression_entries(session, org_id=org.org_id)[expiring]
    assert (entry.reason, entry.expires_at, entry.created_at) == ("legal", None, created)

    status, answer = _add(api, auth, numbers=[permanent, expiring], reason="opt-out", source="IVR")
    assert (status, answer) == (200, {"added": 0, "alreadyPresent": 2})
    entries = suppression_entries(session, org_id=org.org_id)
    assert {n: (e.reason, e.source, e.expires_at) for n, e in entries.items()} == {
        expiring: ("opt-out", "IVR", None),
        permanent: ("opt-out", "IVR", None),
        expired: ("dnc", None, month),
    }, "an opt-out is the strongest reason"


def test_numbers_are_listed_in_canonical_e164_and_found_by_any_form(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    status, answer = _add(api, auth, numbers=["+4402079460958", "0044 20 7946 0958"])
    assert (status, answer) == (200, {"added": 1, "alreadyPresent": 0})
    assert list(suppression_entries(session, org_id=org.org_id)) == ["+442079460958"]
    for written in ("+4402079460958", "+44 (0)20 7946 0958", "+442079460958"):
        found = api.get(f"/suppression/{written}", headers=auth)
        assert found.status_code == 200 and found.json()["number"] == "+442079460958", written
    listed = api.get("/suppression", params={"number": "+4402079460958"}, headers=auth).json()
    assert [e["number"] for e in listed["results"]] == ["+442079460958"]


def test_an_imported_entry_the_api_would_refuse_is_read_and_removed_as_written(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    unassigned, written = "+10000000000", "+4402079460958"
    suppress_rows(session, org=org, numbers=[unassigned, written])
    for number in (unassigned, written):
        assert api.get(f"/suppression/{number}", headers=auth).json()["number"] == number
        listed = api.get("/suppression", params={"number": number}, headers=auth)
        assert [e["number"] for e in listed.json()["results"]] == [number]
    assert _add(api, auth, numbers=[unassigned])[0] == 400, "still refused when added"
    removed = api.delete(f"/suppression/%2B{unassigned[1:]}", headers=auth)
    assert removed.status_code == 200 and removed.json()["number"] == unassigned
    assert api.get(f"/suppression/{unassigned}", headers=auth).status_code == 404
    bad = api.get("/suppression", params={"number": "+1000"}, headers=auth)
    assert bad.json()["message"] == ["number must be a valid E.164 phone number"]


def test_removing_a_number_removes_each_form_it_is_listed_under(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session
) -> None:
    suppress_rows(session, org=org, numbers=["+4402079460958"], reason="legal")
    suppress(session, org=org, numbers=["+442079460958"], reason="dnc")
    removed = api.delete("/suppression/+4402079460958", headers=auth)
    assert removed.status_code == 200
    assert (removed.json()["number"], removed.json()["reason"]) == ("+442079460958", "dnc")
    assert suppression_entries(session, org_id=org.org_id) == {}
