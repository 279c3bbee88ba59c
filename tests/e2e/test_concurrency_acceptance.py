"""Every limit at once, with calls long enough that concurrency caps bind, not only rates.

Two numbers at 5 calls per second, the campaign at ``maxConcurrency`` 20 and one number capped
at 6 calls in flight; calls last a few seconds (the simulator's ``steady`` profile), so the
campaign wants far more than 20 calls at once. The simulator's ground truth must show each cap
reached and never exceeded, and no number ever over its rate.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from orchestrator.orgs.service import create_org
from orchestrator.runner import StackOptions
from tests.support.ground_truth import (
    created_times,
    max_in_any_second,
    simulator_stats,
    start_paced_campaign,
    wait_for_end,
)
from tests.support.stack import Stack, e2e_stack

pytestmark = [pytest.mark.e2e, pytest.mark.acceptance]

CALLS_PER_SECOND = 5
MAX_CONCURRENCY = 20
# The capped number's own limit on calls in flight.
NUMBER_CAP = 6
CONTACTS_BY_CALLER = {"steady-a": 110, "steady-b": 50}


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        workers=2,
        concurrency=4,
        profile="steady",
        seed=5,
        simulator_concurrency_limit=200,
    )
    with e2e_stack(options) as stack:
        yield stack


def test_campaign_and_number_concurrency_caps_bind_and_hold(
    stack: Stack, committed: Session
) -> None:
    org = create_org(committed, name=f"steady-{uuid.uuid4()}", concurrency_limit=100)
    committed.commit()
    headers = {"Authorization": f"Bearer {org.api_key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as client:
        campaign_id = start_paced_campaign(
            client,
            name="concurrency acceptance",
            calls_per_second=CALLS_PER_SECOND,
            number_caps={"steady-a": None, "steady-b": NUMBER_CAP},
            contacts_by_caller=CONTACTS_BY_CALLER,
            max_concurrency=MAX_CONCURRENCY,
            first_number=40_000,
        )
        campaign = wait_for_end(client, campaign_id, stack)
    assert campaign["endedReason"] == "campaign.ended.success"
    assert campaign["contactCounters"]["pending"] == 0

    times = created_times(stack, campaign_id)
    assert {caller: len(t) for caller, t in times.items()} == CONTACTS_BY_CALLER
    stats = simulator_stats(stack)
    print(f"concurrency acceptance: simulator stats {stats}")
    for caller, created in times.items():
        assert max_in_any_second(created) <= CALLS_PER_SECOND, caller
    # The caps were what held calls back: each reached, none exceeded.
    assert MAX_CONCURRENCY - 2 <= stats["maxInFlight"] <= MAX_CONCURRENCY
    assert NUMBER_CAP - 1 <= stats["maxInFlightByPhoneNumber"]["steady-b"] <= NUMBER_CAP
    assert stats["concurrencyRejections"] == 0
    assert stats["numbersDialedMoreThanOnce"] == []
