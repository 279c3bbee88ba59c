from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import campaign_body


def test_create_then_get_returns_counters(api: TestClient, auth: dict[str, str]) -> None:
    created = api.post("/campaign", json=campaign_body(customers=3), headers=auth)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["status"] == "scheduled"
    assert campaign["callsCounterScheduled"] == 3
    fetched = api.get(f"/campaign/{campaign['id']}", headers=auth)
    assert fetched.status_code == 200
    assert fetched.json()["id"] == campaign["id"]
