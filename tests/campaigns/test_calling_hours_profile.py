"""``callingHours: {"profile": "us-tcpa"}`` on v1 and v2 campaigns, through Vapi's SDK: taken
alone or with windows, shown back as given, and an unknown profile refused by name."""

from __future__ import annotations

import httpx
import pytest
from vapi import CreateCustomerDto, Vapi
from vapi.types import Campaign

from tests.factories import customer_numbers
from tests.support.sdk import checked
from tests.support.vapi_v2 import V2Campaigns, ours, refusal

pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")

PROFILE = {"profile": "us-tcpa"}
NARROWED = {"profile": "us-tcpa", "windows": [{"days": ["mon"], "start": "10:00", "end": "12:00"}]}


def _create_v1(vapi: Vapi, hours: object) -> Campaign:
    campaign: Campaign = vapi.campaigns.campaign_controller_create(
        name="Renewals",
        assistant_id="assistant-1",
        phone_number_id="phone-1",
        customers=[CreateCustomerDto(number=n) for n in customer_numbers(2)],
        request_options=ours(callingHours=hours),
    )
    return campaign


def test_v1_takes_a_profile_alone_and_shows_it_back(
    vapi: Vapi, answers: list[httpx.Response]
) -> None:
    created = checked(_create_v1(vapi, PROFILE), answers[-1].json())
    raw = answers[-1].json()
    assert raw["callingHours"] == {**PROFILE, "timezone": "contact", "fallbackTimezone": "UTC"}
    fetched = vapi.campaigns.campaign_controller_find_one(created.id)
    assert fetched.id == created.id
    assert answers[-1].json()["callingHours"]["profile"] == "us-tcpa"


def test_v1_takes_a_profile_with_windows_and_a_patch_can_set_one(
    vapi: Vapi, answers: list[httpx.Response]
) -> None:
    created = _create_v1(vapi, NARROWED)
    assert answers[-1].json()["callingHours"]["windows"] == NARROWED["windows"]
    windows_only = {"windows": NARROWED["windows"]}
    vapi.campaigns.campaign_controller_update(
        created.id, request_options=ours(callingHours=windows_only)
    )
    assert "profile" not in answers[-1].json()["callingHours"]
    vapi.campaigns.campaign_controller_update(
        created.id, request_options=ours(callingHours=PROFILE)
    )
    assert answers[-1].json()["callingHours"] == {
        **PROFILE,
        "timezone": "contact",
        "fallbackTimezone": "UTC",
    }


def test_v2_takes_a_profile(v2: V2Campaigns) -> None:
    v2.create(
        name="Renewals",
        assistant_id="assistant-1",
        phone_number_id="phone-1",
        customers=[CreateCustomerDto(number=n) for n in customer_numbers(1)],
        request_options=ours(callingHours=NARROWED),
    )
    assert v2.raw["callingHours"]["profile"] == "us-tcpa"
    assert v2.raw["callingHours"]["windows"] == NARROWED["windows"]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        (
            {"profile": "eu-gdpr"},
            "callingHours.profile must be one of the following values: us-tcpa",
        ),
        ({"timezone": "contact"}, "callingHours must set windows or profile (or both)"),
    ],
)
def test_a_bad_profile_is_refused_on_v1_and_v2(
    vapi: Vapi, v2: V2Campaigns, hours: dict[str, object], message: str
) -> None:
    assert refusal(lambda: _create_v1(vapi, hours)) == [message]
    refused = refusal(
        lambda: v2.create(
            name="Renewals",
            assistant_id="assistant-1",
            phone_number_id="phone-1",
            customers=[CreateCustomerDto(number=n) for n in customer_numbers(1)],
            request_options=ours(callingHours=hours),
        )
    )
    assert refused == [message]
