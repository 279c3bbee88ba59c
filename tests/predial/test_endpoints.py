"""A pre-dial plan through ``POST /campaign``: kept as given, its extensions checked."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import campaign_body
from tests.support.errors import error_messages

SERVER = {"url": "https://crm.example.com/predial", "timeoutSeconds": 5}


def test_a_plan_with_its_extensions_is_kept_as_given(api: TestClient, auth: dict[str, str]) -> None:
    plan = {"enabled": True, "onError": "retry", "onErrorMaxRetries": 5}
    body = campaign_body(server=SERVER, predialPlan=plan)
    created = api.post("/campaign", json=body, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["predialPlan"] == plan
    fetched = api.get(f"/campaign/{created.json()['id']}", headers=auth).json()
    assert fetched["predialPlan"] == plan


def test_a_plan_out_of_bounds_is_a_400_listing_every_problem(
    api: TestClient, auth: dict[str, str]
) -> None:
    plan = {"onError": "shrug", "onErrorMaxRetries": 11}
    response = api.post(
        "/campaign", json=campaign_body(server=SERVER, predialPlan=plan), headers=auth
    )
    messages = error_messages(response, 400)
    assert len(messages) == 2
    assert any("predialPlan.onError" in message for message in messages), messages
    assert any("predialPlan.onErrorMaxRetries" in message for message in messages), messages
