"""``PUT /phone-number/{id}/pacing`` and the phone-number list and get."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.models import PhoneNumber
from tests.factories import campaign_body, make_org


def test_put_pacing_creates_then_updates(api: TestClient, auth: dict[str, str]) -> None:
    first = api.put(
        "/phone-number/caller-1/pacing",
        json={"callsPerSecond": 5, "maxConcurrency": 20},
        headers=auth,
    )
    assert first.status_code == 200, first.text
    assert first.json()["pacing"] == {"callsPerSecond": 5, "maxConcurrency": 20, "isDefault": False}
    second = api.put(
        "/phone-number/caller-1/pacing",
        json={"callsPerSecond": 2.5, "maxConcurrency": None},
        headers=auth,
    )
    assert second.json()["pacing"]["callsPerSecond"] == 2.5
    assert second.json()["pacing"]["maxConcurrency"] is None
    fetched = api.get("/phone-number/caller-1", headers=auth).json()
    assert fetched["id"] == "caller-1"
    assert fetched["pacing"]["callsPerSecond"] == 2.5


def test_numbers_used_by_a_campaign_show_the_default_pacing(
    api: TestClient, auth: dict[str, str]
) -> None:
    api.post("/campaign", json=campaign_body(phone_number_id="caller-9"), headers=auth)
    listed = api.get("/phone-number", headers=auth).json()
    (phone_number,) = [listing for listing in listed if listing["id"] == "caller-9"]
    assert phone_number["pacing"] == {
        "callsPerSecond": 1.0,
        "maxConcurrency": None,
        "isDefault": True,
    }


def test_bad_pacing_is_400_and_changes_nothing(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    before = session.scalar(select(func.count()).select_from(PhoneNumber))
    response = api.put(
        "/phone-number/caller-1/pacing",
        json={"callsPerSecond": 0, "maxConcurrency": 0, "burst": 3},
        headers=auth,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Bad Request"
    assert set(body["message"]) == {
        "callsPerSecond must be greater than 0.0",
        "maxConcurrency must not be less than 1",
        "property burst should not exist",
    }
    assert session.scalar(select(func.count()).select_from(PhoneNumber)) == before


def test_another_orgs_number_is_404(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    api.put("/phone-number/caller-1/pacing", json={"callsPerSecond": 3}, headers=auth)
    other = make_org(session, name="other")
    other_auth = {"Authorization": f"Bearer {other.api_key}"}
    assert api.get("/phone-number/caller-1", headers=other_auth).status_code == 404
    assert api.get("/phone-number", headers=other_auth).json() == []


def test_pacing_needs_an_api_key(api: TestClient) -> None:
    response = api.put("/phone-number/caller-1/pacing", json={"callsPerSecond": 3})
    assert response.status_code == 401
