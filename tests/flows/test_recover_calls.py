"""The recovery sweep against a real (simulated) provider: bounded, backed off, and ending the
calls the provider no longer knows."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from orchestrator.calls import lookup_repository
from orchestrator.calls.lookups import LookupState
from orchestrator.calls.recovery import Resolution, note_api_start
from orchestrator.calls.service import record_provider_call
from orchestrator.campaigns.counters import counter_drift
from orchestrator.clock import ManualClock
from orchestrator.config import get_settings
from orchestrator.flows import recover_calls
from orchestrator.flows.provider_view import (
    NOT_FOUND_SOURCE,
    end_call_not_found,
    refresh_silent_call,
    settle_unknown_create,
)
from orchestrator.flows.recover_calls import RecoverySweep, run_recovery
from orchestrator.metrics.service import counted
from orchestrator.models import (
    Call,
    CallLookup,
    CallStatus,
    Campaign,
    Contact,
    ContactStatus,
    WebhookEvent,
)
from orchestrator.providers.vapi import CreateCallRequest, VapiClient
from orchestrator.reasons import PROVIDER_CALL_NOT_FOUND
from orchestrator.simulator import SimulatorConfig, create_simulator_app
from tests.factories import (
    dialing_calls,
    lookup_policy,
    unit_of,
)
from tests.support.servers import serve

POLICY = lookup_policy()


@pytest.fixture(scope="module")
def provider() -> Iterator[VapiClient]:
    """Calls that ring for seconds and send no webhooks: silent until asked about."""
    app = create_simulator_app(SimulatorConfig(profile="realistic", seed=5))
    with serve(app) as url, VapiClient(base_url=url, api_key="sweep-test", timeout=5) as client:
        yield client


@pytest.fixture
def dead_provider() -> Iterator[VapiClient]:
    """A provider nobody answers for: every lookup fails at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with VapiClient(base_url=f"http://127.0.0.1:{port}", api_key="x", timeout=1) as client:
        yield client


@pytest.fixture(autouse=True)
def _only_this_tests_calls(session: Session, clock: ManualClock) -> None:
    # Calls other tests' processes committed (end-to-end runs) are not this sweep's to ask
    # about; removed inside the test's transaction, which is rolled back.
    session.execute(delete(Call))
    session.execute(delete(WebhookEvent))


def sweep(session: Session, client: VapiClient, clock: ManualClock, **kw: Any) -> RecoverySweep:
    return run_recovery(
        enqueue=lambda _: None,
        now=clock.now,
        client=client,
        policy=POLICY,
        unit_of_work=unit_of(session),
        **kw,
    )


def _at_provider(session: Session, client: VapiClient, call: Call) -> str:
    created = client.create_call(
        CreateCallRequest(
            assistant_id="assistant-1",
            phone_number_id=call.phone_number_id,
            customer=call.customer,
            assistant_overrides={"metadata": {"orchestratorCallId": str(call.id)}},
        )
    )
    record_provider_call(session, call_id=call.id, provider_call={"id": created.id})
    session.flush()
    return created.id


def _unknown_to_provider(session: Session, call: Call) -> str:
    """A call whose create the provider acknowledged, and has since forgotten."""
    provider_id = f"forgotten-{uuid.uuid4()}"
    record_provider_call(session, call_id=call.id, provider_call={"id": provider_id})
    session.flush()
    return provider_id


def _lookup(session: Session, call: Call) -> CallLookup | None:
    return session.get(CallLookup, call.id, populate_existing=True)


def _refreshed(session: Session, call: Call) -> Call:
    session.flush()
    session.refresh(call)
    return call


def test_a_call_is_asked_about_only_once_it_has_been_silent(
    session: Session, provider: VapiClient, clock: ManualClock
) -> None:
    (call,) = dialing_calls(session, count=1)
    _at_provider(session, provider, call)
    clock.advance(119)
    assert sweep(session, provider, clock).lookups.total() == 0
    clock.advance(2)
    done = sweep(session, provider, clock)
    assert done.lookups == {("silent", "live"): 1}
    lookup = _lookup(session, call)
    assert lookup is not None and lookup.next_at == clock.now + timedelta(seconds=120)


def test_a_live_call_is_asked_about_less_and_less_often(
    session: Session, provider: VapiClient, clock: ManualClock
) -> None:
    (call,) = dialing_calls(session, count=1)
    _at_provider(session, provider, call)
    waits: list[float] = []
    for _ in range(3):
        clock.advance(121 if not waits else waits[-1])
        assert sweep(session, provider, clock).lookups == {("silent", "live"): 1}
        lookup = _lookup(session, call)
        assert lookup is not None
        waits.append((lookup.next_at - clock.now).total_seconds())
    assert waits == [120, 240, 480]
    clock.advance(479)
    assert sweep(session, provider, clock).lookups.total() == 0


def test_news_of_a_call_starts_its_silence_over(
    session: Session, provider: VapiClient, clock: ManualClock
) -> None:
    (call,) = dialing_calls(session, count=1)
    _at_provider(session, provider, call)
    clock.advance(121)
    sweep(session, provider, clock)
    clock.advance(60)
    call = _refreshed(session, call)
    call.status = CallStatus.RINGING  # what a webhook does (its counters aside)
    session.flush()
    clock.advance(119)
    assert sweep(session, provider, clock).lookups.total() == 0
    clock.advance(2)
    assert sweep(session, provider, clock).lookups == {("silent", "live"): 1}


def test_a_call_the_provider_no_longer_knows_ends_after_a_second_404_a_minute_later(
    session: Session, provider: VapiClient, clock: ManualClock
) -> None:
    calls = dialing_calls(session, count=2)
    for call in calls:
        _unknown_to_provider(session, call)
    before = counted("orchestrator_calls_provider_not_found")
    asked = counted("orchestrator_provider_lookups", kind="silent", result="not-found")
    clock.advance(121)
    first = sweep(session, provider, clock)
    assert first.lookups == {("silent", "not-found"): 2}
    assert all(_refreshed(session, c).status == CallStatus.QUEUED for c in calls)
    clock.advance(59)
    assert sweep(session, provider, clock).lookups.total() == 0
    clock.advance(1)
    second = sweep(session, provider, clock)
    assert second.lookups == {("silent", "not-found"): 2}
    assert sorted(second.not_found) == sorted(c.id for c in calls)
    for call in calls:
        _check_ended_not_found(session, _refreshed(session, call))
    assert counted("orchestrator_calls_provider_not_found") == before + 2
    assert counted("orchestrator_provider_lookups", kind="silent", result="not-found") == asked + 4
    campaign = session.get(Campaign, calls[0].campaign_id)
    assert campaign is not None and counter_drift(session, campaign=campaign) == {}
    clock.advance(3600)
    assert sweep(session, provider, clock).lookups.total() == 0


def _check_ended_not_found(session: Session, call: Call) -> None:
    assert (call.status, call.ended_reason) == (CallStatus.ENDED, PROVIDER_CALL_NOT_FOUND)
    assert _lookup(session, call) is None
    contact = session.get(Contact, call.contact_id, populate_existing=True)
    assert contact is not None
    assert (contact.status, contact.last_ended_reason) == (
        ContactStatus.FAILED,
        PROVIDER_CALL_NOT_FOUND,
    )
    sources = session.scalars(
        select(WebhookEvent.payload).where(WebhookEvent.call_id == call.id)
    ).all()
    assert sources and all(p["message"]["source"] == NOT_FOUND_SOURCE for p in sources)


@pytest.mark.parametrize("retry_on", [PROVIDER_CALL_NOT_FOUND, "provider-lost"])
def test_a_retry_plan_naming_the_reason_or_its_category_dials_the_contact_again(
    session: Session, provider: VapiClient, clock: ManualClock, retry_on: str
) -> None:
    plan = {"maxAttempts": 2, "retryOn": [retry_on], "delaySeconds": 30}
    (call,) = dialing_calls(session, count=1, retryPlan=plan)
    _unknown_to_provider(session, call)
    clock.advance(121)
    sweep(session, provider, clock)
    clock.advance(60)
    assert sweep(session, provider, clock).not_found == [call.id]
    contact = session.get(Contact, call.contact_id, populate_existing=True)
    assert contact is not None
    assert contact.status == ContactStatus.PENDING
    assert contact.not_before == clock.now + timedelta(seconds=30)


def test_a_call_that_ended_meanwhile_is_left_as_it_is(
    session: Session, provider: VapiClient, clock: ManualClock
) -> None:
    (call,) = dialing_calls(session, count=1)
    provider_id = _unknown_to_provider(session, call)
    call = _refreshed(session, call)
    call.status = CallStatus.ENDED
    call.ended_reason = "customer-ended-call"
    session.flush()
    ended = end_call_not_found(
        session, call_id=call.id, provider_call_id=provider_id, now=clock.now
    )
    assert ended is False
    assert _refreshed(session, call).ended_reason == "customer-ended-call"


def test_a_sweep_asks_about_a_bounded_number_of_calls_longest_silent_first(
    session: Session, provider: VapiClient, clock: ManualClock
) -> None:
    calls = dialing_calls(session, count=6)
    for call in calls:
        _unknown_to_provider(session, call)
        clock.advance(1)
    clock.advance(200)
    done = sweep(session, provider, clock, limit=4)
    assert done.lookups == {("silent", "not-found"): 4}
    asked = [_lookup(session, c) is not None for c in calls]
    assert asked == [True, True, True, True, False, False]
    assert sweep(session, provider, clock, limit=4).lookups == {("silent", "not-found"): 2}


def test_failed_lookups_back_off_per_call_and_a_run_stops_after_three_in_a_row(
    session: Session, dead_provider: VapiClient, clock: ManualClock
) -> None:
    calls = dialing_calls(session, count=5)
    for call in calls:
        _unknown_to_provider(session, call)
        clock.advance(1)
    clock.advance(200)
    first = sweep(session, dead_provider, clock)
    assert first.lookups == {("silent", "failed"): 3}
    assert first.stopped_early
    lookups = [_lookup(session, c) for c in calls]
    assert [lk.failures if lk else None for lk in lookups] == [1, 1, 1, 0, 0]
    assert all(lk is not None and lk.next_at == clock.now for lk in lookups[3:])
    assert all(lk is not None and lk.last_error for lk in lookups[:3])
    clock.advance(10)
    assert sweep(session, dead_provider, clock).lookups == {("silent", "failed"): 2}
    clock.advance(21)
    assert sweep(session, dead_provider, clock).lookups == {("silent", "failed"): 3}
    assert [_delay(session, c, clock) for c in calls[:3]] == [60, 60, 60]


def _delay(session: Session, call: Call, clock: ManualClock) -> float:
    lookup = _lookup(session, call)
    assert lookup is not None
    return (lookup.next_at - clock.now).total_seconds()


def test_creates_whose_answer_was_lost_are_looked_up_in_bounded_backed_off_runs(
    session: Session, dead_provider: VapiClient, clock: ManualClock
) -> None:
    calls = dialing_calls(session, count=3)
    clock.advance(get_settings().provider_timeout_seconds * 3 + 2)
    done = sweep(session, dead_provider, clock, limit=2)
    assert done.lookups == {("create", "failed"): 2}
    assert all(_refreshed(session, c).status == CallStatus.DIALING for c in calls)
    clock.advance(29)
    assert sweep(session, dead_provider, clock, limit=2).lookups == {("create", "failed"): 1}
    clock.advance(1)
    assert sweep(session, dead_provider, clock, limit=2).lookups == {("create", "failed"): 2}


def test_a_create_found_missing_is_released_for_dialing_with_its_lookup_forgotten(
    session: Session, provider: VapiClient, clock: ManualClock
) -> None:
    (call,) = dialing_calls(session, count=1)
    clock.advance(get_settings().provider_timeout_seconds * 3 + 2)
    redialed: list[uuid.UUID] = []
    run_recovery(
        enqueue=redialed.extend,
        now=clock.now,
        client=provider,
        policy=POLICY,
        unit_of_work=unit_of(session),
    )
    assert redialed == [call.id]
    assert _refreshed(session, call).status == CallStatus.CLAIMED
    assert _lookup(session, call) is None


def test_the_api_starting_makes_every_call_the_provider_has_due_at_once(
    session: Session, provider: VapiClient, clock: ManualClock
) -> None:
    held, dialing = dialing_calls(session, count=2)
    _unknown_to_provider(session, held)
    assert note_api_start(session, now=clock.now) == 1
    lookup = _lookup(session, held)
    assert lookup is not None and lookup.next_at == clock.now
    assert _lookup(session, dialing) is None
    assert sweep(session, provider, clock).lookups == {("silent", "not-found"): 1}


def test_lookups_of_calls_that_ended_since_are_deleted(
    session: Session, provider: VapiClient, clock: ManualClock
) -> None:
    (call,) = dialing_calls(session, count=1)
    _unknown_to_provider(session, call)
    note_api_start(session, now=clock.now)
    call = _refreshed(session, call)
    call.status = CallStatus.ENDED
    session.flush()
    sweep(session, provider, clock)
    assert _lookup(session, call) is None


def test_a_call_whose_recovery_fails_is_backed_off_and_holds_up_no_other(
    session: Session, provider: VapiClient, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = dialing_calls(session, count=2)
    for call in (first, second):
        _at_provider(session, provider, call)
        clock.advance(1)
    real = refresh_silent_call

    def failing_for_the_first(session: Session, *, call_id: uuid.UUID, **kw: Any) -> bool:
        if call_id == first.id:
            raise RuntimeError("a fault of ours")
        return real(session, call_id=call_id, **kw)

    monkeypatch.setattr(recover_calls, "refresh_silent_call", failing_for_the_first)
    clock.advance(200)
    done = sweep(session, provider, clock)
    assert done.lookups == {("silent", "live"): 2, ("silent", "failed"): 1}
    failed, fine = _lookup(session, first), _lookup(session, second)
    assert failed is not None and failed.failures == 1
    assert failed.last_error == "a fault of ours"
    assert failed.next_at == clock.now + timedelta(seconds=POLICY.retry_base_seconds)
    assert fine is not None and fine.failures == 0
    assert fine.next_at == clock.now + timedelta(seconds=POLICY.silence_seconds)


def test_calls_claimed_by_a_run_that_dies_are_due_again(
    session: Session, provider: VapiClient, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = dialing_calls(session, count=3)
    for call in calls:
        _at_provider(session, provider, call)
    real = refresh_silent_call
    seen: list[uuid.UUID] = []

    def dies_on_the_second(session: Session, *, call_id: uuid.UUID, **kw: Any) -> bool:
        seen.append(call_id)
        if len(seen) == 2:
            raise SystemExit("the worker stops")
        return real(session, call_id=call_id, **kw)

    monkeypatch.setattr(recover_calls, "refresh_silent_call", dies_on_the_second)
    clock.advance(200)
    with pytest.raises(SystemExit):
        sweep(session, provider, clock)
    left = [_lookup(session, c) for c in calls if c.id not in seen[:1]]
    assert all(lookup is not None and lookup.next_at == clock.now for lookup in left)


def test_a_create_settled_meanwhile_by_a_webhook_is_asked_about_after_its_silence(
    session: Session, provider: VapiClient, clock: ManualClock
) -> None:
    """A webhook may correlate the call while the run asks about its create, with a time
    stamped before the run's claim: no lease may outlive the run."""
    (call,) = dialing_calls(session, count=1)
    dialed_at = call.dialed_at
    assert dialed_at is not None
    _unknown_to_provider(session, call)  # the webhook, at the claim's instant
    clock.advance(5)
    lookup_repository.save_lookup(
        session,
        call_id=call.id,
        state=LookupState(),
        next_at=clock.now + timedelta(minutes=2),
        checked_at=clock.now,
    )
    resolution = settle_unknown_create(session, call_id=call.id, dialed_at=dialed_at, found=None)
    assert resolution == Resolution.SETTLED
    assert _lookup(session, call) is None
    clock.advance(POLICY.silence_seconds - 5)
    assert sweep(session, provider, clock).lookups == {("silent", "not-found"): 1}
