"""``GET /phone-number[/{id}]``: the provider's numbers as Vapi's ``PhoneNumber``, each with the
org's pacing; ``PUT /phone-number/{id}/pacing`` sets it."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from vapi import GetPhoneNumbersResponse_Vapi, ListPhoneNumbersResponseItem_Vapi, Vapi
from vapi.types import VapiPhoneNumber

from orchestrator.models import PhoneNumber
from orchestrator.orgs.service import CreatedOrg
from orchestrator.simulator.state import DEFAULT_ORG_ID
from tests.factories import campaign_body, make_org
from tests.support.numbers_provider import Lookups
from tests.support.sdk import checked, strictly
from tests.support.simulators import Sim

# The SDK passes its own timeout on every request, which Starlette's TestClient only warns about.
pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")

DEFAULT_PACING = {
    "callsPerSecond": 1.0,
    "maxConcurrency": None,
    "isDefault": True,
    "messagesPerSecond": 1.0,
}


def test_vapis_sdk_parses_every_number_with_its_pacing(
    vapi: Vapi,
    api: TestClient,
    auth: dict[str, str],
    org: CreatedOrg,
    lookups: Lookups,
    answers: list[httpx.Response],
) -> None:
    api.put("/phone-number/line-1/pacing", json={"callsPerSecond": 5}, headers=auth)
    listed = vapi.phone_numbers.list()
    assert [type(number) for number in listed] == [ListPhoneNumbersResponseItem_Vapi] * 2
    raw = answers[-1].json()
    for parsed, number in zip(listed, raw, strict=True):
        checked(parsed, number)
        strictly(VapiPhoneNumber, number)
        assert parsed.org_id == number["orgId"] == str(org.org_id) != DEFAULT_ORG_ID
        assert parsed.model_extra == {"pacing": number["pacing"]}
    by_id = {number["id"]: number for number in raw}
    assert by_id["line-2"]["number"] == "+14155550123"
    assert by_id["line-2"]["pacing"] == DEFAULT_PACING
    assert by_id["line-1"]["pacing"] == {
        "callsPerSecond": 5,
        "maxConcurrency": None,
        "isDefault": False,
        "messagesPerSecond": 1.0,
    }
    fetched = vapi.phone_numbers.get("line-1")
    assert isinstance(fetched, GetPhoneNumbersResponse_Vapi)
    assert checked(fetched, answers[-1].json()).id == "line-1"
    assert answers[-1].json() == by_id["line-1"]


def test_put_pacing_creates_then_updates(
    api: TestClient, auth: dict[str, str], lookups: Lookups
) -> None:
    first = api.put(
        "/phone-number/line-1/pacing",
        json={"callsPerSecond": 5, "maxConcurrency": 20},
        headers=auth,
    )
    assert first.status_code == 200, first.text
    assert first.json()["id"] == "line-1"
    assert first.json()["pacing"] == {
        "callsPerSecond": 5,
        "maxConcurrency": 20,
        "isDefault": False,
        "messagesPerSecond": 1.0,
    }
    second = api.put(
        "/phone-number/line-1/pacing",
        json={"callsPerSecond": 2.5, "maxConcurrency": None, "messagesPerSecond": 20},
        headers=auth,
    )
    assert second.json()["pacing"]["callsPerSecond"] == 2.5
    assert second.json()["pacing"]["messagesPerSecond"] == 20
    assert second.json()["pacing"]["maxConcurrency"] is None
    fetched = api.get("/phone-number/line-1", headers=auth).json()
    assert (fetched["id"], fetched["provider"]) == ("line-1", "vapi")
    assert fetched["pacing"]["callsPerSecond"] == 2.5
    assert fetched["pacing"]["messagesPerSecond"] == 20
    assert lookups.asked == ["/phone-number/line-1"]
    third = api.put("/phone-number/line-1/pacing", json={"callsPerSecond": 3}, headers=auth)
    assert third.json()["pacing"] == {
        "callsPerSecond": 3,
        "maxConcurrency": None,
        "isDefault": False,
        "messagesPerSecond": 1.0,
    }, "a PUT replaces the whole pacing: what it leaves out takes its default"


def test_a_number_a_campaign_uses_shows_the_default_pacing(
    api: TestClient, auth: dict[str, str], lookups: Lookups
) -> None:
    api.post("/campaign", json=campaign_body(phone_number_id="line-2"), headers=auth)
    listed = api.get("/phone-number", headers=auth).json()
    (line,) = [number for number in listed if number["id"] == "line-2"]
    assert line["pacing"] == DEFAULT_PACING


def test_a_number_the_provider_does_not_have_is_not_listed_but_keeps_its_pacing(
    api: TestClient, auth: dict[str, str], lookups: Lookups
) -> None:
    """Pacing set for an id the provider does not know: no number to show, the record stays."""
    put = api.put("/phone-number/ghost/pacing", json={"callsPerSecond": 3}, headers=auth)
    assert put.status_code == 200
    assert [n["id"] for n in api.get("/phone-number", headers=auth).json()] == [
        "line-2",
        "line-1",
    ]
    missing = api.get("/phone-number/ghost", headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "Phone number ghost not found",
    }
    again = api.put("/phone-number/ghost/pacing", json={"callsPerSecond": 4}, headers=auth)
    assert again.json()["createdAt"] == put.json()["createdAt"]


def test_the_list_follows_vapis_query(
    api: TestClient, auth: dict[str, str], provider: Sim, lookups: Lookups
) -> None:
    provider.create("+14440000001")  # the provider now also has PHONE, newest
    newest, *_ = api.get("/phone-number", headers=auth).json()
    assert [n["id"] for n in api.get("/phone-number?limit=1", headers=auth).json()] == [
        newest["id"]
    ]
    after = api.get(
        "/phone-number", params={"createdAtGt": "2000-01-01T00:00:00Z", "limit": 2}, headers=auth
    ).json()
    assert len(after) == 2
    before = api.get(
        "/phone-number", params={"createdAtLt": "2000-01-01T00:00:00Z"}, headers=auth
    ).json()
    assert before == []
    bad = api.get("/phone-number", params={"limit": 1001, "updatedAtGe": "soon"}, headers=auth)
    assert bad.status_code == 400
    assert len(bad.json()["message"]) == 2


def test_another_org_sees_the_providers_numbers_with_its_own_pacing(
    api: TestClient, auth: dict[str, str], session: Session, lookups: Lookups
) -> None:
    api.put("/phone-number/line-1/pacing", json={"callsPerSecond": 3}, headers=auth)
    mine = api.get("/phone-number", headers=auth).json()
    other = make_org(session, name="other")
    other_auth = {"Authorization": f"Bearer {other.api_key}"}
    theirs = api.get("/phone-number", headers=other_auth).json()
    assert [n["id"] for n in theirs] == [n["id"] for n in mine]
    assert {n["orgId"] for n in theirs} == {str(other.org_id)}
    assert all(n["pacing"] == DEFAULT_PACING for n in theirs)
    line = api.get("/phone-number/line-1", headers=other_auth).json()
    assert (line["orgId"], line["pacing"]) == (str(other.org_id), DEFAULT_PACING)
    # Each org's lookups are its own: the second org's list was asked of the provider.
    assert lookups.asked == ["/phone-number", "/phone-number", "/phone-number/line-1"]


def test_an_id_longer_than_any_number_is_404_without_asking(
    api: TestClient, auth: dict[str, str], lookups: Lookups
) -> None:
    assert api.get(f"/phone-number/{'x' * 201}", headers=auth).status_code == 404
    assert lookups.asked == []


@pytest.mark.parametrize("path", ["/phone-number", "/phone-number/line-1"])
def test_numbers_need_an_api_key(api: TestClient, lookups: Lookups, path: str) -> None:
    assert api.get(path).status_code == 401
    assert lookups.asked == []


def test_bad_pacing_is_400_and_changes_nothing(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    before = session.scalar(select(func.count()).select_from(PhoneNumber))
    response = api.put(
        "/phone-number/caller-1/pacing",
        json={"callsPerSecond": 0, "maxConcurrency": 0, "messagesPerSecond": 0, "burst": 3},
        headers=auth,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Bad Request"
    assert set(body["message"]) == {
        "callsPerSecond must be greater than 0.0",
        "maxConcurrency must not be less than 1",
        "messagesPerSecond must be greater than 0.0",
        "property burst should not exist",
    }
    assert session.scalar(select(func.count()).select_from(PhoneNumber)) == before


def test_pacing_needs_an_api_key(api: TestClient) -> None:
    response = api.put("/phone-number/caller-1/pacing", json={"callsPerSecond": 3})
    assert response.status_code == 401
