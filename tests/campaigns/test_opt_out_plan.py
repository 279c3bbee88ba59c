"""The ``optOutPlan`` extension of campaigns: taken by v1 and v2 creates and patches, kept
with the other extensions, answered back, copied by a duplicate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from vapi import Vapi

from orchestrator.policy.schemas import OptOutPlanIn
from tests.factories import customer_numbers
from tests.support.vapi_v2 import V2Campaigns, ours

BY_KEY = {"structuredDataKey": "optOut"}
BY_REASONS = {"endedReasons": ["customer-busy"]}


def _stored(raw: Mapping[str, object]) -> dict[str, Any]:
    return OptOutPlanIn.model_validate(raw).model_dump(by_alias=True)


def test_v1_create_and_patch_answer_the_plan(vapi: Vapi, answers: list[httpx.Response]) -> None:
    created = vapi.campaigns.campaign_controller_create(
        name="Renewals",
        assistant_id="assistant-1",
        phone_number_id="phone-1",
        customers=[{"number": number} for number in customer_numbers(2)],
        request_options=ours(optOutPlan=BY_KEY),
    )
    assert answers[-1].json()["optOutPlan"] == _stored(BY_KEY)
    vapi.campaigns.campaign_controller_update(
        created.id, name="Renewals", request_options=ours(optOutPlan=BY_REASONS)
    )
    assert answers[-1].json()["optOutPlan"] == _stored(BY_REASONS)
    vapi.campaigns.campaign_controller_find_one(created.id)
    assert answers[-1].json()["optOutPlan"] == _stored(BY_REASONS)


def test_v2_create_patch_get_and_duplicate_keep_the_plan(v2: V2Campaigns) -> None:
    created = v2.create(
        name="Renewals",
        assistant_id="assistant-1",
        phone_number_id="phone-1",
        customers=[{"number": customer_numbers(1)[0]}],  # type: ignore[list-item]
        request_options=ours(optOutPlan=BY_KEY),
    )
    assert v2.raw["optOutPlan"] == _stored(BY_KEY)
    v2.update(created.id, request_options=ours(optOutPlan={**BY_KEY, **BY_REASONS}))
    assert v2.raw["optOutPlan"] == _stored({**BY_KEY, **BY_REASONS})
    v2.get(created.id)
    assert v2.raw["optOutPlan"] == _stored({**BY_KEY, **BY_REASONS})
    copy = v2.send(
        "POST", "v2/campaign", json={"name": "Copy", "duplicateFromCampaignId": created.id}
    )
    assert copy.json()["optOutPlan"] == _stored({**BY_KEY, **BY_REASONS})


def test_a_plan_that_says_nothing_is_refused(v2: V2Campaigns) -> None:
    body = {
        "name": "Renewals",
        "assistantId": "assistant-1",
        "phoneNumberId": "phone-1",
        "customers": [{"number": customer_numbers(1)[0]}],
        "optOutPlan": {"endedReasons": []},
    }
    for path in ("v2/campaign", "campaign"):
        assert v2.refused("POST", path, json=body) == [
            "optOutPlan must set structuredDataKey or endedReasons (or both)"
        ]
