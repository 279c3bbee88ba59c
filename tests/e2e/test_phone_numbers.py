"""Phone numbers through every real component: the API process asks the simulator, which knows
the numbers it was started with and those its calls name; both Vapi SDKs parse every one."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from vapi import CreateCustomerDto, GetPhoneNumbersResponse_Vapi, Vapi
from vapi.types import VapiPhoneNumber

from orchestrator.orgs.service import create_org
from orchestrator.runner import StackOptions
from tests.factories import customer_numbers
from tests.support.sdk import checked, strictly
from tests.support.stack import Stack, e2e_stack
from tests.support.ts_sdk import run_ts_sdk

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        workers=1,
        concurrency=2,
        profile="instant",
        simulator_phone_numbers="line-1,line-2=+14155550123",
    )
    with e2e_stack(options) as stack:
        yield stack


def test_both_sdks_list_the_providers_numbers_with_their_pacing(
    stack: Stack, committed: Session
) -> None:
    org = create_org(committed, name=f"numbers-{uuid.uuid4()}", concurrency_limit=5)
    committed.commit()
    vapi = Vapi(token=org.api_key, base_url=stack.api_url)
    listed = vapi.phone_numbers.list()
    assert sorted(number.id for number in listed) == ["line-1", "line-2"]

    line = vapi.phone_numbers.get("line-2")
    assert isinstance(line, GetPhoneNumbersResponse_Vapi)
    assert line.number == "+14155550123"
    headers = {"Authorization": f"Bearer {org.api_key}"}
    raw = httpx.get(f"{stack.api_url}/phone-number/line-2", headers=headers).json()
    strictly(VapiPhoneNumber, raw)
    assert checked(line, raw).model_extra == {"pacing": raw["pacing"]}
    assert (raw["orgId"], raw["pacing"]["isDefault"]) == (str(org.org_id), True)

    vapi.calls.create(
        assistant_id="assistant-numbers",
        phone_number_id="line-3",
        customer=CreateCustomerDto(number=customer_numbers(1, start=7000)[0]),
    )
    deadline = time.monotonic() + 60
    while "line-3" not in {number.id for number in vapi.phone_numbers.list()}:
        if time.monotonic() > deadline:
            pytest.fail(f"the provider never listed line-3\n{stack.logs()}")
        time.sleep(0.5)  # the call is placed by a worker, and listings are kept a few seconds

    seen = run_ts_sdk("phone_numbers.cjs", stack.api_url, org.api_key)
    assert sorted(number["id"] for number in seen["listed"]) == ["line-1", "line-2", "line-3"]
    assert {number["kind"] for number in seen["listed"]} == {"VapiPhoneNumber"}
    assert seen["problems"] == []
