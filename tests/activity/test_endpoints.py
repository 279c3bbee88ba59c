"""``GET /campaign/{id}/activity`` over HTTP: buckets of sends, ends and calls in flight."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.clock import ManualClock
from orchestrator.models import CallStatus
from orchestrator.orgs.service import CreatedOrg
from tests.factories import make_campaign, make_org
from tests.factories.activity import timed_call
from tests.factories.texts import sms_campaign_texts
from tests.support.errors import error_messages

ENDED = CallStatus.ENDED


def _activity(api: TestClient, auth: dict[str, str], campaign_id: object, **params: Any) -> Any:
    response = api.get(f"/campaign/{campaign_id}/activity", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def _at(now: datetime, *, minutes: float = 0, seconds: float = 0) -> datetime:
    return now - timedelta(minutes=minutes, seconds=seconds)


def _calls(session: Session, org: CreatedOrg, campaign_id: uuid.UUID, now: datetime) -> None:
    def call(**fields: Any) -> None:
        timed_call(session, org=org, campaign_id=campaign_id, **fields)

    # Sent before the window (which starts at 14:50:10) and still in flight.
    call(claimed_at=_at(now, minutes=15), dialed_at=_at(now, minutes=15))
    # Sent before the window, ended in its bucket 11 (14:52:00-14:52:10).
    call(
        claimed_at=_at(now, minutes=12),
        dialed_at=_at(now, minutes=12),
        ended_at=_at(now, minutes=8, seconds=-5),
        status=ENDED,
        ended_reason="customer-ended-call",
    )
    # Sent in bucket 29, ended in bucket 35.
    call(
        claimed_at=_at(now, minutes=5, seconds=1),
        dialed_at=_at(now, minutes=5),
        ended_at=_at(now, minutes=4),
        status=ENDED,
        ended_reason="voicemail",
    )
    # Sent in bucket 58, ringing now.
    call(claimed_at=_at(now, seconds=6), dialed_at=_at(now, seconds=5), status=CallStatus.DIALING)
    # Claimed, not sent: never in flight at the provider.
    call(claimed_at=_at(now, seconds=2), dialed_at=None, status=CallStatus.CLAIMED)
    # Ended long ago: outcomes only.
    call(
        claimed_at=_at(now, minutes=120),
        dialed_at=_at(now, minutes=120),
        ended_at=_at(now, minutes=119),
        status=ENDED,
        ended_reason="voicemail",
    )


def test_buckets_count_sends_ends_and_calls_in_flight(
    api: TestClient, auth: dict[str, str], session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    now = clock.now
    campaign_id = make_campaign(session, org=org)
    _calls(session, org, campaign_id, now)

    activity = _activity(api, auth, campaign_id)

    assert activity["campaignId"] == str(campaign_id)
    assert activity["bucketSeconds"] == 10
    buckets = activity["buckets"]
    assert len(buckets) == 60
    assert buckets[0]["at"].startswith("2026-03-02T14:50:10")
    assert buckets[-1]["at"].startswith("2026-03-02T15:00:00")
    assert {i: b["dials"] for i, b in enumerate(buckets) if b["dials"]} == {29: 1, 58: 1}
    assert {i: b["ended"] for i, b in enumerate(buckets) if b["ended"]} == {11: 1, 35: 1}
    in_flight = [b["inFlight"] for b in buckets]
    assert in_flight == [2] * 11 + [1] * 18 + [2] * 6 + [1] * 23 + [2] * 2
    assert activity["inFlight"] == 2
    assert activity["outcomes"] == {"voicemail": 2, "customer-ended-call": 1}
    assert "texts" not in activity


def test_a_longer_window_has_wider_buckets(
    api: TestClient, auth: dict[str, str], session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    now = clock.now
    campaign_id = make_campaign(session, org=org)
    _calls(session, org, campaign_id, now)

    activity = _activity(api, auth, campaign_id, minutes=60)

    assert activity["bucketSeconds"] == 60
    assert len(activity["buckets"]) == 60
    assert sum(b["dials"] for b in activity["buckets"]) == 4
    assert sum(b["ended"] for b in activity["buckets"]) == 2
    assert activity["buckets"][0]["inFlight"] == 0
    assert activity["inFlight"] == 2


def test_a_campaign_that_texts_shows_its_texts(
    api: TestClient, auth: dict[str, str], session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id, texts = sms_campaign_texts(session, org=org, customers=3, now=clock.now)

    activity = _activity(api, auth, campaign_id)

    assert len(texts) == 3
    assert activity["texts"] == {"queued": 3, "sent": 0, "failed": 0, "replied": 0, "optedOut": 0}
    assert activity["outcomes"] == {}
    assert activity["inFlight"] == 0


@pytest.mark.parametrize("minutes", ["0", "61", "ten"])
def test_a_window_out_of_range_is_refused(
    api: TestClient, auth: dict[str, str], session: Session, org: CreatedOrg, minutes: str
) -> None:
    campaign_id = make_campaign(session, org=org)

    response = api.get(f"/campaign/{campaign_id}/activity?minutes={minutes}", headers=auth)

    assert any("minutes" in message for message in error_messages(response, 400))


def test_another_orgs_campaign_is_not_found(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    other = make_org(session, name="other")
    campaign_id = make_campaign(session, org=other)

    for path_id in (campaign_id, "not-a-uuid"):
        response = api.get(f"/campaign/{path_id}/activity", headers=auth)
        assert error_messages(response, 404) == "Campaign not found"
    assert api.get(f"/campaign/{campaign_id}/activity").status_code == 401


def test_outcomes_are_left_out_when_not_asked_for(
    api: TestClient, auth: dict[str, str], session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = make_campaign(session, org=org)
    _calls(session, org, campaign_id, clock.now)

    activity = _activity(api, auth, campaign_id, includeOutcomes="false")

    assert "outcomes" not in activity
    assert activity["inFlight"] == 2
