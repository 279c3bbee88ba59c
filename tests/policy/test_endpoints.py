"""``GET /policy`` and ``PUT /policy``: the org's policy with its defaults, replaced whole,
every problem of a bad one in a 400 and nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.gate.caps import Cap
from orchestrator.gate.policy import caps_of
from orchestrator.models import Org
from orchestrator.orgs.service import CreatedOrg
from tests.factories import make_org

EMPTY: dict[str, Any] = {"frequencyCaps": [], "callingHoursProfile": None, "optOutPlan": None}
FULL = {
    "frequencyCaps": [
        {"maxAttempts": 3, "periodSeconds": 86400, "channels": ["call"]},
        {"maxAttempts": 7, "periodSeconds": 604800, "channels": ["call", "sms"]},
    ],
    "callingHoursProfile": "us-tcpa",
    "optOutPlan": {"structuredDataKey": "optOut", "endedReasons": ["customer-ended-call"]},
}


def test_an_org_that_set_nothing_has_the_empty_policy(
    api: TestClient, auth: dict[str, str]
) -> None:
    response = api.get("/policy", headers=auth)
    assert (response.status_code, response.json()) == (200, EMPTY)


def test_put_replaces_the_policy_whole_and_answers_what_is_stored(
    api: TestClient, auth: dict[str, str], session: Session, org: CreatedOrg
) -> None:
    assert api.put("/policy", json=FULL, headers=auth).json() == FULL
    assert api.get("/policy", headers=auth).json() == FULL
    both = frozenset({"call", "sms"})
    assert caps_of(session.get_one(Org, org.org_id, populate_existing=True)) == (
        Cap(3, timedelta(days=1)),
        Cap(7, timedelta(days=7), channels=both),
    )
    texts = caps_of(session.get_one(Org, org.org_id), channel="sms")
    assert texts == (Cap(7, timedelta(days=7), channels=both),)
    smaller = {"optOutPlan": {"endedReasons": ["customer-ended-call"]}}
    expected = {**EMPTY, "optOutPlan": {"endedReasons": ["customer-ended-call"]}}
    assert api.put("/policy", json=smaller, headers=auth).json() == expected
    assert api.get("/policy", headers=auth).json() == expected


def test_each_org_has_its_own_policy(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    other = make_org(session, name="other")
    session.commit()
    api.put("/policy", json=FULL, headers=auth)
    theirs = api.get("/policy", headers={"Authorization": f"Bearer {other.api_key}"})
    assert theirs.json() == EMPTY


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (
            {"frequencyCaps": [{"maxAttempts": 0, "periodSeconds": 30}]},
            ["frequencyCaps.0.maxAttempts", "frequencyCaps.0.periodSeconds"],
        ),
        (
            {"frequencyCaps": [{"maxAttempts": 1}], "callingHoursProfile": "uk"},
            ["frequencyCaps.0.periodSeconds", "callingHoursProfile"],
        ),
        ({"optOutPlan": {}, "surprise": 1}, ["optOutPlan", "surprise"]),
        (
            {"frequencyCaps": [{"maxAttempts": 1, "periodSeconds": 366 * 86400 + 1}]},
            ["frequencyCaps.0.periodSeconds must not be greater than 31622400"],
        ),
        ({"optOutPlan": {"structuredDataKey": "a\u0000b"}}, ["optOutPlan.structuredDataKey"]),
        ({"frequencyCaps": [{"maxAttempts": 1, "periodSeconds": 60}] * 11}, ["frequencyCaps"]),
    ],
)
def test_a_bad_policy_is_a_400_listing_every_problem_and_changes_nothing(
    api: TestClient, auth: dict[str, str], body: dict[str, Any], problems: list[str]
) -> None:
    api.put("/policy", json=FULL, headers=auth)
    response = api.put("/policy", json=body, headers=auth)
    assert response.status_code == 400
    answer = response.json()
    assert (answer["statusCode"], answer["error"]) == (400, "Bad Request")
    assert len(answer["message"]) >= len(problems)
    for problem in problems:
        assert any(problem in message for message in answer["message"]), (problem, answer)
    assert api.get("/policy", headers=auth).json() == FULL


def test_the_policy_needs_the_orgs_key(api: TestClient) -> None:
    assert api.get("/policy").status_code == 401
    refused = api.put("/policy", json=EMPTY, headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401


def test_a_cap_counts_calls_unless_it_names_its_channels(
    api: TestClient, auth: dict[str, str]
) -> None:
    body = {"frequencyCaps": [{"maxAttempts": 2, "periodSeconds": 3600}]}
    shown = api.put("/policy", json=body, headers=auth).json()["frequencyCaps"]
    assert shown == [{"maxAttempts": 2, "periodSeconds": 3600, "channels": ["call"]}]


@pytest.mark.parametrize("channels", [[], ["sms", "sms"], ["fax"], ["call", "sms", "call"]])
def test_a_caps_channels_are_one_or_both_never_repeated(
    api: TestClient, auth: dict[str, str], channels: list[str]
) -> None:
    body = {"frequencyCaps": [{"maxAttempts": 2, "periodSeconds": 3600, "channels": channels}]}
    response = api.put("/policy", json=body, headers=auth)
    assert response.status_code == 400
    assert any("channels" in message for message in response.json()["message"])
