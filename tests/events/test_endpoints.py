"""``GET /campaign/{id}/events`` and ``POST /campaign/{id}/events/redeliver`` over HTTP."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.models import OutboxEvent
from tests.factories import dispatch_campaign, make_org, post_campaign
from tests.support.errors import error_messages

SERVER = {"url": "https://hooks.example.com/events"}


def _campaign(api: TestClient, auth: dict[str, str], session: Session) -> uuid.UUID:
    created = post_campaign(api, auth, customers=3, server=SERVER)
    campaign_id = uuid.UUID(created["id"])
    dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=50)
    return campaign_id


def _fail(session: Session, campaign_id: uuid.UUID, event_type: str) -> list[uuid.UUID]:
    failed = session.scalars(
        update(OutboxEvent)
        .where(OutboxEvent.campaign_id == campaign_id, OutboxEvent.event_type == event_type)
        .values(status="failed", attempts=4, last_error="answered 502")
        .returning(OutboxEvent.id)
    ).all()
    session.flush()
    return list(failed)


def test_a_campaigns_events_are_listed_in_order_and_by_status(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    campaign_id = _campaign(api, auth, session)
    (failed,) = _fail(session, campaign_id, "campaign.started")
    response = api.get(f"/campaign/{campaign_id}/events", headers=auth)
    assert response.status_code == 200, response.text
    page = response.json()
    assert [e["eventType"] for e in page["results"]] == ["campaign.started"] + [
        "contact.dispatched"
    ] * 3
    assert page["metadata"]["totalItems"] == 4
    first = page["results"][0]
    assert first["id"] == str(failed)
    assert (first["status"], first["attempts"], first["lastError"]) == ("failed", 4, "answered 502")
    assert first["nextAttemptAt"] is None and first["deliveredAt"] is None
    assert set(first) >= {"sequence", "data", "occurredAt", "campaignId"}
    failed_only = api.get(f"/campaign/{campaign_id}/events?status=failed", headers=auth).json()
    assert [e["id"] for e in failed_only["results"]] == [str(failed)]
    paged = api.get(f"/campaign/{campaign_id}/events?limit=2&page=2", headers=auth).json()
    assert len(paged["results"]) == 2 and paged["metadata"]["hasNextPage"] is False


def test_failed_events_are_redelivered_or_only_those_named(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    campaign_id = _campaign(api, auth, session)
    failed = _fail(session, campaign_id, "contact.dispatched")
    url = f"/campaign/{campaign_id}/events/redeliver"
    named = api.post(url, json={"eventIds": [str(failed[0])]}, headers=auth)
    assert named.status_code == 200 and named.json() == {"queued": 1}
    rest = api.post(url, headers=auth)
    assert rest.json() == {"queued": 2}
    statuses = api.get(f"/campaign/{campaign_id}/events?status=failed", headers=auth).json()
    assert statuses["results"] == []


def test_bad_input_is_a_400_listing_every_problem(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    campaign_id = _campaign(api, auth, session)
    listed = api.get(f"/campaign/{campaign_id}/events?status=lost&limit=0", headers=auth)
    assert len(error_messages(listed, 400)) == 2
    url = f"/campaign/{campaign_id}/events/redeliver"
    bad_ids = api.post(url, json={"eventIds": ["x", "y"]}, headers=auth)
    assert len(error_messages(bad_ids, 400)) == 2
    assert api.post(url, json={"eventIds": []}, headers=auth).status_code == 400


def test_another_orgs_campaign_is_not_found(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    campaign_id = _campaign(api, auth, session)
    other = make_org(session, name="other")
    theirs = {"Authorization": f"Bearer {other.api_key}"}
    for path in (f"/campaign/{campaign_id}/events", "/campaign/not-an-id/events"):
        error_messages(api.get(path, headers=theirs), 404)
    redeliver = api.post(f"/campaign/{campaign_id}/events/redeliver", headers=theirs)
    error_messages(redeliver, 404)
    assert api.get(f"/campaign/{campaign_id}/events").status_code == 401
