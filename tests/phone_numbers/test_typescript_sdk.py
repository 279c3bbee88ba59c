"""Vapi's TypeScript SDK lists and gets the API's phone numbers, every kind of them, over HTTP.

The SDK does no validation at run time, so its script checks each number against the SDK's own
declarations: a kind it knows (by ``provider``), every property its type requires, and the
primitive type of every property present.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from orchestrator.orgs.service import CreatedOrg
from tests.support.numbers_provider import STAMP, NumbersProvider, every_kind, looking_up
from tests.support.servers import serve
from tests.support.ts_sdk import run_ts_sdk

KINDS = {
    "vapi": "VapiPhoneNumber",
    "twilio": "TwilioPhoneNumber",
    "byo-phone-number": "ByoPhoneNumber",
    "vonage": "VonagePhoneNumber",
    "telnyx": "TelnyxPhoneNumber",
}


@pytest.fixture
def api_url(api: TestClient) -> Iterator[str]:
    """The ``api`` app over real HTTP (the test client runs its startup and shutdown)."""
    with (
        serve(NumbersProvider().app()) as provider_url,
        looking_up(api, provider_url),
        serve(api.app, lifespan="off") as base_url,  # type: ignore[arg-type]
    ):
        yield base_url


def test_vapis_typescript_sdk_parses_every_number(
    api: TestClient, auth: dict[str, str], org: CreatedOrg, api_url: str
) -> None:
    api.put("/phone-number/twilio-1/pacing", json={"callsPerSecond": 2}, headers=auth)
    seen = run_ts_sdk("phone_numbers.cjs", api_url, org.api_key)
    assert seen["kinds"] == sorted(KINDS)
    assert seen["listed"] == [
        {"id": number["id"], "kind": KINDS[number["provider"]]} for number in every_kind()
    ]
    assert seen["fetched"] == [number["id"] for number in every_kind()]
    assert seen["problems"] == []


def test_the_check_finds_what_the_sdks_types_forbid() -> None:
    """What the list used to answer (pacing records, no kind of number) and a broken Twilio
    number, straight from a provider: the check names each problem, in the list and the get."""
    pacing_record = {
        "id": "caller-1",
        "orgId": "org-1",
        "createdAt": STAMP,
        "updatedAt": STAMP,
        "pacing": {"callsPerSecond": 1.0, "maxConcurrency": None, "isDefault": True},
    }
    twilio = every_kind()[1] | {"twilioAccountSid": None, "smsEnabled": "yes"}
    with serve(NumbersProvider(numbers=[pacing_record, twilio]).app()) as provider_url:
        seen = run_ts_sdk("phone_numbers.cjs", provider_url, "key")
    problems = [
        "caller-1: provider undefined is no kind the SDK knows",
        "twilio-1: TwilioPhoneNumber.smsEnabled must be a boolean",
        "twilio-1: TwilioPhoneNumber.twilioAccountSid is required",
    ]
    assert seen["problems"] == problems + problems
