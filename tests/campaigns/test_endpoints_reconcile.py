"""``POST /campaign/{id}/reconcile`` (extension): recount now, correct, answer what was found."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Campaign
from tests.factories import add_to_shard, make_org, post_campaign
from tests.support.errors import error_messages

COUNTER_FIELDS = (
    "callsCounterScheduled",
    "callsCounterQueued",
    "callsCounterInProgress",
    "callsCounterEndedVoicemail",
    "callsCounterEnded",
    "contactCounters",
)


def test_an_exact_campaign_reports_no_drift_and_its_counters(
    api: TestClient, auth: dict[str, str]
) -> None:
    created = post_campaign(api, auth, customers=3)
    response = api.post(f"/campaign/{created['id']}/reconcile", headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "campaignId": created["id"],
        "drift": {},
        "counters": {
            "callsCounterScheduled": 3,
            "callsCounterQueued": 0,
            "callsCounterInProgress": 0,
            "callsCounterEndedVoicemail": 0,
            "callsCounterEnded": 0,
            "contactCounters": {
                "pending": 3,
                "dispatched": 0,
                "completed": 0,
                "failed": 0,
                "skipped": 0,
                "predialFailed": 0,
                "total": 3,
            },
        },
    }


def test_drift_is_corrected_and_reported_by_the_campaigns_field_names(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = post_campaign(api, auth, customers=2)
    add_to_shard(
        session,
        campaign_id=uuid.UUID(created["id"]),
        shard=13,
        contacts_predial_failed=1,
        calls_counter_ended=-2,
    )
    url = f"/campaign/{created['id']}/reconcile"
    body = api.post(url, headers=auth).json()
    assert body["drift"] == {"contactCounters.predialFailed": 1, "callsCounterEnded": -2}
    fetched = api.get(f"/campaign/{created['id']}", headers=auth).json()
    assert body["counters"] == {field: fetched[field] for field in COUNTER_FIELDS}
    assert body["counters"]["callsCounterEnded"] == 0
    assert body["counters"]["contactCounters"]["predialFailed"] == 0
    campaign = session.get(Campaign, uuid.UUID(created["id"]))
    assert campaign is not None
    assert counter_drift(session, campaign=campaign) == {}
    assert api.post(url, headers=auth).json()["drift"] == {}


def test_another_orgs_campaign_is_not_found(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = post_campaign(api, auth, customers=1)
    add_to_shard(session, campaign_id=uuid.UUID(created["id"]), shard=13, contacts_failed=1)
    other = make_org(session, name="other")
    response = api.post(
        f"/campaign/{created['id']}/reconcile",
        headers={"Authorization": f"Bearer {other.api_key}"},
    )
    assert error_messages(response, 404) == "Campaign not found"
    # Nothing was reconciled on the other org's behalf.
    campaign = session.get(Campaign, uuid.UUID(created["id"]))
    assert campaign is not None
    assert counter_drift(session, campaign=campaign) == {"contacts_failed": 1}


def test_unknown_ids_and_missing_keys_are_refused(api: TestClient, auth: dict[str, str]) -> None:
    assert error_messages(api.post(f"/campaign/{uuid.uuid4()}/reconcile", headers=auth), 404)
    assert error_messages(api.post("/campaign/not-a-uuid/reconcile", headers=auth), 404)
    assert api.post(f"/campaign/{uuid.uuid4()}/reconcile").status_code == 401
