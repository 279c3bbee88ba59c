"""``/v2/campaign`` refuses bad input with every problem listed, in Vapi's shape, writing nothing:
what only v1 has (``workflowId``, ``dialPlan``) is named as such, to Vapi's SDK too. Input the
SDK's methods cannot send goes through its HTTP client."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session
from vapi import CreateCustomerDto, DialPlanEntry

from orchestrator.orgs.service import CreatedOrg
from tests.factories import customer_numbers, make_campaign, row_counts
from tests.support.vapi_v2 import V2Campaigns, refusal

pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")

WORKFLOW = "workflowId is only supported by v1 (POST /campaign): a v2 campaign runs an assistantId"
WORKFLOW += " or a squadId"
DIAL_PLAN = "dialPlan is only supported by v1 (POST /campaign): a v2 campaign calls its customers"
DIAL_PLAN += " from one phoneNumberId"
TARGET = "exactly one of assistantId or squadId must be provided"


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Renewals",
        "assistantId": "assistant-1",
        "phoneNumberId": "phone-1",
        "customers": [{"number": n} for n in customer_numbers(2)],
    }
    return {key: value for key, value in {**base, **changes}.items() if value is not None}


@pytest.fixture
def reject(v2: V2Campaigns, session: Session) -> Any:
    def post(payload: Any) -> list[str]:
        before = row_counts(session)
        messages = v2.refused("POST", "v2/campaign", json=payload)
        assert row_counts(session) == before
        assert isinstance(messages, list)
        return messages

    return post


def customers(count: int) -> list[CreateCustomerDto]:
    return [CreateCustomerDto(number=n) for n in customer_numbers(count)]


def test_a_workflow_is_v1_only(v2: V2Campaigns, session: Session) -> None:
    before = row_counts(session)
    messages = refusal(
        lambda: v2.create(
            name="Renewals",
            workflow_id="workflow-1",
            phone_number_id="phone-1",
            customers=customers(2),
        )
    )
    assert messages == [WORKFLOW, TARGET]
    assert row_counts(session) == before


def test_a_dial_plan_is_v1_only(v2: V2Campaigns, session: Session) -> None:
    before = row_counts(session)
    plan = [DialPlanEntry(phone_number_id="phone-a", customers=customers(1))]
    messages = refusal(
        lambda: v2.create(name="Renewals", assistant_id="assistant-1", dial_plan=plan)
    )
    assert messages == [DIAL_PLAN]
    assert row_counts(session) == before


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        ({"assistantId": None}, [TARGET]),
        ({"squadId": "squad-1"}, [TARGET]),
        ({"phoneNumberId": None}, ["phoneNumberId should not be empty"]),
        ({"customers": None}, ["customers should not be empty"]),
        ({"customers": []}, ["customers should not be empty"]),
        ({"name": None}, ["name should not be empty"]),
        ({"maxConcurrency": 0}, ["maxConcurrency must not be less than 1"]),
        ({"transport": "sip"}, ["property transport should not exist"]),
    ],
)
def test_each_rule(reject: Any, changes: dict[str, Any], messages: list[str]) -> None:
    assert reject(body(**changes)) == messages


def test_every_problem_is_listed_at_once(reject: Any) -> None:
    first = customer_numbers(1)[0]
    payload = body(
        assistantId=None,
        workflowId="workflow-1",
        phoneNumberId=None,
        customers=[{"number": first}, {"number": "12"}, {"number": first}],
        maxConcurrency=0,
    )
    assert sorted(reject(payload)) == sorted(
        [
            WORKFLOW,
            TARGET,
            "phoneNumberId should not be empty",
            "customers.1.number must be longer than or equal to 3 characters",
            "maxConcurrency must not be less than 1",
        ]
    )


def test_rules_are_listed_with_field_errors_and_duplicates(reject: Any) -> None:
    first = customer_numbers(1)[0]
    payload = body(workflowId="w", customers=[{"number": first}, {"number": first}])
    assert reject(payload) == [
        WORKFLOW,
        "customers.1.number duplicates customers.0.number",
    ]


def test_update_refuses_a_workflow_and_a_dial_plan(
    v2: V2Campaigns, session: Session, org: CreatedOrg
) -> None:
    campaign_id = str(make_campaign(session, org=org, customers=1))
    plan = [DialPlanEntry(phone_number_id="phone-a", customers=customers(1))]
    messages = refusal(
        lambda: v2.update(campaign_id, workflow_id="workflow-1", dial_plan=plan, status="done")
    )
    assert messages == [
        "status must be one of the following values: ended, cancelled, paused, "
        "in-progress, scheduled"
    ]
    messages = refusal(lambda: v2.update(campaign_id, workflow_id="workflow-1", dial_plan=plan))
    assert messages == [WORKFLOW, "dialPlan cannot be changed after creation"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"includeCounters": "maybe"}, "includeCounters must be a boolean value"),
        (
            {"status": "paused-ish"},
            "status must be one of the following values: scheduled, "
            "in-progress, paused, ended, cancelled, archived",
        ),
        ({"limit": 1001}, "limit must not be greater than 1000"),
        ({"page": 0}, "page must not be less than 1"),
        ({"sortOrder": "UP"}, "sortOrder must be one of the following values: ASC, DESC"),
        ({"createdAtGt": "yesterday"}, "createdAtGt must be a valid ISO 8601 date string"),
    ],
)
def test_bad_list_queries(v2: V2Campaigns, params: dict[str, Any], message: str) -> None:
    assert v2.refused("GET", "v2/campaign", params=params) == [message]


def test_bad_get_query(v2: V2Campaigns, session: Session, org: CreatedOrg) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    path = f"v2/campaign/{campaign_id}"
    assert v2.refused("GET", path, params={"includeCounters": "2"}) == [
        "includeCounters must be a boolean value"
    ]
