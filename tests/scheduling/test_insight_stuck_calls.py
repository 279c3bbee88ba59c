"""Capacity held by calls older than a call can last is visible: in ``pacing`` and ``/metrics``."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete
from sqlalchemy.orm import Session

from orchestrator.clock import ManualClock
from orchestrator.config import get_settings
from orchestrator.metrics.gauges import age_labels
from orchestrator.models import Call
from orchestrator.orgs.service import CreatedOrg
from tests.factories import answer_call, customer_numbers, dispatch, fast_caller_number, make_org


def _campaign(api: TestClient, auth: dict[str, str], start: int) -> uuid.UUID:
    numbers = customer_numbers(6, start=start)
    body = {
        "name": "stuck",
        "assistantId": "assistant-1",
        "maxConcurrency": 10,
        "dialPlan": [
            {"phoneNumberId": "line-a", "customers": [{"number": n} for n in numbers[:4]]},
            {"phoneNumberId": "line-b", "customers": [{"number": n} for n in numbers[4:]]},
        ],
    }
    response = api.post("/campaign", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


def _send_all(session: Session, org: CreatedOrg, clock: ManualClock) -> list[uuid.UUID]:
    call_ids = dispatch(session, org=org, now=clock.now)
    for call_id in call_ids:
        answer_call(session, call_id=call_id)
    session.flush()
    return call_ids


def _stuck(api: TestClient, auth: dict[str, str], campaign_id: uuid.UUID) -> dict[str, object]:
    response = api.get(f"/campaign/{campaign_id}", headers=auth)
    assert response.status_code == 200, response.text
    stuck: dict[str, object] = response.json()["pacing"]["stuckCalls"]
    return stuck


def test_pacing_counts_calls_in_flight_longer_than_a_call_can_last(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session, clock: ManualClock
) -> None:
    for line in ("line-a", "line-b"):
        fast_caller_number(session, org=org, caller_number_id=line)
    first = _campaign(api, auth, start=100)
    assert len(_send_all(session, org, clock)) == 6
    longest = get_settings().max_call_seconds
    assert _stuck(api, auth, first) == {
        "olderThanSeconds": longest,
        "org": 0,
        "campaign": 0,
        "phoneNumbers": {},
    }
    clock.advance(longest + 1)
    second = _campaign(api, auth, start=200)
    _send_all(session, org, clock)
    assert _stuck(api, auth, first) == {
        "olderThanSeconds": longest,
        "org": 6,
        "campaign": 6,
        "phoneNumbers": {"line-a": 4, "line-b": 2},
    }
    assert _stuck(api, auth, second)["campaign"] == 0
    assert _stuck(api, auth, second)["org"] == 6


def test_another_orgs_stuck_calls_are_not_counted(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session, clock: ManualClock
) -> None:
    other = make_org(session, name=f"other-{uuid.uuid4()}")
    other_auth = {"Authorization": f"Bearer {other.api_key}"}
    for owner in (org, other):
        for line in ("line-a", "line-b"):
            fast_caller_number(session, org=owner, caller_number_id=line)
    mine = _campaign(api, auth, start=300)
    _campaign(api, other_auth, start=400)
    _send_all(session, other, clock)
    clock.advance(get_settings().max_call_seconds + 1)
    assert _stuck(api, auth, mine)["org"] == 0


def _gauges(api: TestClient) -> dict[str, float]:
    text = api.get("/metrics").text
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "orchestrator_calls_in_flight":
                values[sample.labels["age"]] = sample.value
            elif sample.name == "orchestrator_calls_in_flight_over_max_length":
                values["over"] = sample.value
    return values


def test_metrics_count_calls_in_flight_by_age(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, session: Session, clock: ManualClock
) -> None:
    session.execute(delete(Call))  # other tests' committed calls are not these to count
    for line in ("line-a", "line-b"):
        fast_caller_number(session, org=org, caller_number_id=line)
    _campaign(api, auth, start=500)
    _send_all(session, org, clock)
    labels = age_labels()
    gauges = _gauges(api)
    assert gauges == {**dict.fromkeys(labels, 0.0), labels[0]: 6.0, "over": 0.0}
    clock.advance(400)
    assert _gauges(api)[labels[2]] == 6.0
    clock.advance(4000)
    assert _gauges(api) == {**dict.fromkeys(labels, 0.0), labels[-1]: 6.0, "over": 6.0}
