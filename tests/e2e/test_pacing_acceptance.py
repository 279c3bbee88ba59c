"""Global pacing across worker processes: two numbers at 5 calls per second, 600 contacts.

Two Celery worker processes with several threads each place the calls; the simulator's
ground truth must show no number ever over its rate in any 1-second window, never more than
``maxConcurrency`` calls at once, and the rate kept close to the limit while contacts wait.
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

CONTACTS = 600
CALLS_PER_SECOND = 5
MAX_CONCURRENCY = 20
CALLERS = ("pace-a", "pace-b")


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        workers=2,
        concurrency=4,
        profile="fast",
        seed=11,
        simulator_concurrency_limit=200,
    )
    with e2e_stack(options) as stack:
        yield stack


def test_two_numbers_at_five_per_second_over_two_worker_processes(
    stack: Stack, committed: Session
) -> None:
    org = create_org(committed, name=f"pacing-{uuid.uuid4()}", concurrency_limit=100)
    committed.commit()
    headers = {"Authorization": f"Bearer {org.api_key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as client:
        campaign_id = start_paced_campaign(
            client,
            name="pacing acceptance",
            calls_per_second=CALLS_PER_SECOND,
            number_caps=dict.fromkeys(CALLERS),
            contacts_by_caller=dict.fromkeys(CALLERS, CONTACTS // len(CALLERS)),
            max_concurrency=MAX_CONCURRENCY,
            first_number=20_000,
        )
        campaign = wait_for_end(client, campaign_id, stack)
    assert campaign["endedReason"] == "campaign.ended.success"
    assert campaign["contactCounters"]["pending"] == 0

    times = created_times(stack, campaign_id)
    assert sorted(times) == sorted(CALLERS)
    assert sum(len(t) for t in times.values()) == CONTACTS
    stats = simulator_stats(stack)
    achieved = {}
    for caller, created in times.items():
        assert max_in_any_second(created) <= CALLS_PER_SECOND, caller
        assert stats["maxCallsPerSecondByPhoneNumber"][caller] <= CALLS_PER_SECOND, caller
        achieved[caller] = (len(created) - 1) / (max(created) - min(created))
        assert achieved[caller] >= 0.9 * CALLS_PER_SECOND, achieved
    # Shown with ``pytest -s -m acceptance``.
    print(f"pacing acceptance: achieved {achieved}, simulator stats {stats}")
    assert stats["maxInFlight"] <= MAX_CONCURRENCY
    assert stats["concurrencyRejections"] == 0
    assert stats["numbersDialedMoreThanOnce"] == []


def test_the_window_count_is_exact_at_the_edges() -> None:
    assert max_in_any_second([0.0, 0.2, 0.4, 0.6, 0.8, 1.0]) == 5
    assert max_in_any_second([0.0, 0.2, 0.4, 0.6, 0.8, 0.99]) == 6
    assert max_in_any_second([]) == 0
