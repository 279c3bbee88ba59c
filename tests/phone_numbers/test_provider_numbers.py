"""Every kind of Vapi number, passed on without the provider account's secrets; a provider that
fails is a 502 or 503 in Vapi's shape; lookups are kept a few seconds, per org."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.orm import Session
from vapi import (
    GetPhoneNumbersResponse_ByoPhoneNumber,
    GetPhoneNumbersResponse_Telnyx,
    GetPhoneNumbersResponse_Twilio,
    GetPhoneNumbersResponse_Vapi,
    GetPhoneNumbersResponse_Vonage,
    ListPhoneNumbersResponseItem_ByoPhoneNumber,
    ListPhoneNumbersResponseItem_Telnyx,
    ListPhoneNumbersResponseItem_Twilio,
    ListPhoneNumbersResponseItem_Vapi,
    ListPhoneNumbersResponseItem_Vonage,
    Vapi,
)
from vapi.core.api_error import ApiError
from vapi.core.request_options import RequestOptions
from vapi.types import (
    ByoPhoneNumber,
    TelnyxPhoneNumber,
    TwilioPhoneNumber,
    VapiPhoneNumber,
    VonagePhoneNumber,
)

from orchestrator.clock import ManualClock
from orchestrator.orgs.service import CreatedOrg
from tests.factories import make_org
from tests.support.numbers_provider import (
    PROVIDER_KEY,
    SECRETS,
    Lookups,
    NumbersProvider,
    every_kind,
    looking_up,
)
from tests.support.sdk import checked, strictly
from tests.support.servers import serve
from tests.support.simulators import Sim

# The SDK passes its own timeout on every request, which Starlette's TestClient only warns about.
pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")

# Vapi's PhoneNumber variant of each provider, and the SDK's own classes it parses a listed
# and a fetched number into.
KINDS: dict[str, tuple[type[BaseModel], type[BaseModel], type[BaseModel]]] = {
    "byo-phone-number": (
        ByoPhoneNumber,
        ListPhoneNumbersResponseItem_ByoPhoneNumber,
        GetPhoneNumbersResponse_ByoPhoneNumber,
    ),
    "twilio": (
        TwilioPhoneNumber,
        ListPhoneNumbersResponseItem_Twilio,
        GetPhoneNumbersResponse_Twilio,
    ),
    "vonage": (
        VonagePhoneNumber,
        ListPhoneNumbersResponseItem_Vonage,
        GetPhoneNumbersResponse_Vonage,
    ),
    "vapi": (VapiPhoneNumber, ListPhoneNumbersResponseItem_Vapi, GetPhoneNumbersResponse_Vapi),
    "telnyx": (
        TelnyxPhoneNumber,
        ListPhoneNumbersResponseItem_Telnyx,
        GetPhoneNumbersResponse_Telnyx,
    ),
}


@pytest.fixture
def numbers() -> NumbersProvider:
    return NumbersProvider()


@pytest.fixture
def served(api: TestClient, numbers: NumbersProvider) -> Iterator[Lookups]:
    with serve(numbers.app()) as base_url, looking_up(api, base_url, timeout=1.0) as found:
        yield found


def test_every_kind_of_number_parses_as_its_kind(
    vapi: Vapi, served: Lookups, answers: list[httpx.Response]
) -> None:
    listed = vapi.phone_numbers.list()
    raw = answers[-1].json()
    assert [type(number) for number in listed] == [KINDS[n["provider"]][1] for n in every_kind()]
    for parsed, number in zip(listed, raw, strict=True):
        kind, _, fetched_as = KINDS[number["provider"]]
        strictly(kind, number)
        checked(parsed, number)
        assert set(parsed.model_extra or {}) == {"pacing"}
        fetched = vapi.phone_numbers.get(number["id"])
        assert type(fetched) is fetched_as
        checked(fetched, answers[-1].json())
        assert answers[-1].json() == number


def test_the_provider_accounts_secrets_and_inbound_setup_are_never_shown(
    api: TestClient, auth: dict[str, str], served: Lookups
) -> None:
    text = api.get("/phone-number", headers=auth).text
    text += "".join(api.get(f"/phone-number/{n['id']}", headers=auth).text for n in every_kind())
    for secret in (*SECRETS, PROVIDER_KEY):
        assert secret not in text
    for field in ("server", "hooks", "fallbackDestination", "authentication", "twilioApiKey"):
        assert f'"{field}"' not in text
    listed = {n["id"]: n for n in api.get("/phone-number", headers=auth).json()}
    assert listed["twilio-1"]["twilioAccountSid"] == "AC0001"
    assert listed["twilio-1"]["name"] == "Sales line"
    assert listed["byo-1"]["credentialId"] == "cred-byo"
    assert listed["telnyx-1"]["assistantId"] == "asst-inbound"


def test_a_number_we_cannot_vouch_for_is_left_out(
    api: TestClient, auth: dict[str, str], numbers: NumbersProvider, served: Lookups
) -> None:
    good = every_kind()[0]
    numbers.numbers = [
        good,
        {**good, "id": "new-kind", "provider": "sip-trunk"},
        {**good, "id": "no-stamp", "createdAt": "yesterday"},
        {**every_kind()[1], "id": "no-sid", "twilioAccountSid": None},
        {**good, "id": "bad-status", "status": "sleeping"},
    ]
    assert [n["id"] for n in api.get("/phone-number", headers=auth).json()] == ["vapi-1"]
    odd = api.get("/phone-number/new-kind", headers=auth)
    assert odd.status_code == 502
    assert odd.json()["message"] == "The provider's answer could not be read."


def test_timestamps_are_vapis_whatever_the_provider_wrote(
    api: TestClient, auth: dict[str, str], numbers: NumbersProvider, served: Lookups
) -> None:
    stamps = {"createdAt": "2026-03-02T12:00:00.5+02:00", "updatedAt": "2026-03-02T10:00:01"}
    numbers.numbers = [every_kind()[0] | stamps]
    (number,) = api.get("/phone-number", headers=auth).json()
    assert number["createdAt"] == "2026-03-02T10:00:00.500Z"
    assert number["updatedAt"] == "2026-03-02T10:00:01.000Z"


FAILURES: list[tuple[tuple[int, Any, dict[str, str]], int, str]] = [
    ((500, {"message": "boom"}, {}), 502, "The provider failed to answer (HTTP 500)."),
    ((401, {"message": "bad key"}, {}), 502, "The provider refused our request (HTTP 401)."),
    ((200, b"<html>", {}), 502, "The provider's answer could not be read."),
    ((200, {"results": "none"}, {}), 502, "The provider's answer could not be read."),
    (
        (429, {"message": "slow down"}, {"Retry-After": "2.5"}),
        503,
        "The provider is rate limiting our requests; try again in 3 s.",
    ),
]


@pytest.mark.parametrize(("failure", "status", "message"), FAILURES)
def test_a_failing_provider_is_a_502_or_503_in_vapis_shape(
    vapi: Vapi,
    numbers: NumbersProvider,
    served: Lookups,
    failure: tuple[int, Any, dict[str, str]],
    status: int,
    message: str,
) -> None:
    numbers.failure = failure
    # The SDK would retry a 5xx with backoff: the first answer is the one checked.
    once: RequestOptions = {"max_retries": 0}
    calls: list[Callable[[], object]] = [
        lambda: vapi.phone_numbers.list(request_options=once),
        lambda: vapi.phone_numbers.get("vapi-1", request_options=once),
    ]
    for call in calls:
        with pytest.raises(ApiError) as raised:
            call()
        assert raised.value.status_code == status
        assert raised.value.body == {
            "statusCode": status,
            "error": "Bad Gateway" if status == 502 else "Service Unavailable",
            "message": message,
        }


def test_a_provider_too_slow_is_a_503(
    api: TestClient, auth: dict[str, str], numbers: NumbersProvider, served: Lookups
) -> None:
    numbers.delay = 1.5  # the client waits 1 s
    response = api.get("/phone-number", headers=auth)
    assert response.status_code == 503
    assert response.json()["message"] == "The provider did not answer in time; try again shortly."


def test_an_unreachable_provider_is_a_503(api: TestClient, auth: dict[str, str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with looking_up(api, f"http://127.0.0.1:{port}") as lookups:
        for path in ("/phone-number", "/phone-number/line-1"):
            response = api.get(path, headers=auth)
            assert response.status_code == 503
            assert response.json() == {
                "statusCode": 503,
                "error": "Service Unavailable",
                "message": "The provider cannot be reached; try again shortly.",
            }
        assert api.get("/phone-number", headers=auth).status_code == 503
        assert len(lookups.asked) == 3  # a failure is not kept: each request asks again


def test_an_error_is_logged_without_the_provider_key(
    api: TestClient,
    auth: dict[str, str],
    numbers: NumbersProvider,
    served: Lookups,
    caplog: pytest.LogCaptureFixture,
) -> None:
    numbers.failure = (401, {"message": f"key {PROVIDER_KEY} is not valid"}, {})
    assert api.get("/phone-number", headers=auth).status_code == 502
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "phone-number lookup failed" in logged
    assert "[redacted]" in logged
    assert PROVIDER_KEY not in logged


def test_lookups_are_kept_a_few_seconds(
    api: TestClient, auth: dict[str, str], provider: Sim, lookups: Lookups, clock: ManualClock
) -> None:
    first = api.get("/phone-number", headers=auth).json()
    provider.create("+14440000009")  # the provider gets a new number
    assert api.get("/phone-number", headers=auth).json() == first
    api.put("/phone-number/line-1/pacing", json={"callsPerSecond": 7}, headers=auth)
    paced = {n["id"]: n["pacing"] for n in api.get("/phone-number", headers=auth).json()}
    assert paced["line-1"]["callsPerSecond"] == 7  # our pacing is never kept stale
    assert lookups.asked == ["/phone-number"]
    clock.advance(4.9)
    assert len(api.get("/phone-number", headers=auth).json()) == 2
    clock.advance(0.2)
    assert len(api.get("/phone-number", headers=auth).json()) == 3
    assert lookups.asked == ["/phone-number", "/phone-number"]


def test_each_query_and_each_number_is_a_lookup_of_its_own(
    api: TestClient, auth: dict[str, str], lookups: Lookups, clock: ManualClock
) -> None:
    for _ in range(2):
        api.get("/phone-number", headers=auth)
        api.get("/phone-number", params={"limit": 1}, headers=auth)
        api.get("/phone-number/line-1", headers=auth)
        api.get("/phone-number/nobody", headers=auth)  # a 404 is kept too
    assert sorted(lookups.asked) == sorted(
        ["/phone-number", "/phone-number", "/phone-number/line-1", "/phone-number/nobody"]
    )


def test_one_orgs_kept_lookup_is_never_served_to_another(
    api: TestClient,
    auth: dict[str, str],
    org: CreatedOrg,
    session: Session,
    lookups: Lookups,
    clock: ManualClock,
) -> None:
    mine = api.get("/phone-number/line-1", headers=auth).json()
    other = make_org(session, name="other")
    theirs = api.get(
        "/phone-number/line-1", headers={"Authorization": f"Bearer {other.api_key}"}
    ).json()
    assert (mine["orgId"], theirs["orgId"]) == (str(org.org_id), str(other.org_id))
    assert str(org.org_id) not in json.dumps(theirs)
    assert lookups.asked == ["/phone-number/line-1", "/phone-number/line-1"]
