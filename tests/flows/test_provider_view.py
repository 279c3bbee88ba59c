"""Recovering lost create answers and lost webhooks from a real (simulated) provider over HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from orchestrator.calls import recovery
from orchestrator.calls.recovery import Resolution, find_created_call
from orchestrator.calls.service import record_provider_call
from orchestrator.campaigns.counters import counter_drift
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.flows.provider_view import (
    apply_provider_view,
    refresh_silent_call,
    settle_unknown_create,
)
from orchestrator.metrics.service import counted
from orchestrator.models import Call, CallStatus, Campaign, Contact, ContactStatus
from orchestrator.providers.vapi import CreateCallRequest, VapiClient
from orchestrator.simulator import SimulatorConfig, create_simulator_app
from tests.factories import dialing_calls
from tests.support.servers import serve

LATEST_SEND = timedelta(seconds=31)


@pytest.fixture(scope="module")
def provider() -> Iterator[VapiClient]:
    """A simulator whose calls send no webhooks (as if every one of them was lost)."""
    app = create_simulator_app(SimulatorConfig(profile="instant", seed=3))
    with serve(app) as url, VapiClient(base_url=url, api_key="recovery-test", timeout=5) as client:
        yield client


def _create_at_provider(client: VapiClient, call: Call) -> str:
    """What a create whose answer was lost leaves behind: the provider has the call."""
    request = CreateCallRequest(
        assistant_id="assistant-1",
        phone_number_id=call.phone_number_id,
        customer=call.customer,
        assistant_overrides={"metadata": {"orchestratorCallId": str(call.id)}},
    )
    return client.create_call(request).id


def _ended_at_provider(client: VapiClient, provider_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = client.get_call(provider_id).model_dump(mode="json", by_alias=True)
        if found["status"] == "ended":
            return found
        time.sleep(0.05)
    raise AssertionError(f"provider call {provider_id} did not end")


def _campaign_of(session: Session, call: Call) -> Campaign:
    campaign = session.get(Campaign, call.campaign_id, populate_existing=True)
    assert campaign is not None
    return campaign


def test_a_call_the_provider_created_is_recorded_not_dialed_again(
    session: Session, provider: VapiClient
) -> None:
    (call,) = dialing_calls(session)
    provider_id = _create_at_provider(provider, call)
    truth = _ended_at_provider(provider, provider_id)
    before = counted("orchestrator_ambiguous_creates", resolution="found")
    found = find_created_call(
        provider,
        call_id=call.id,
        phone_number_id=call.phone_number_id,
        dialed_at=call.dialed_at or utcnow(),
        latest_send=LATEST_SEND,
    )
    assert found is not None and found["id"] == provider_id
    resolution = settle_unknown_create(
        session, call_id=call.id, dialed_at=call.dialed_at or utcnow(), found=found
    )
    assert resolution == Resolution.FOUND
    session.refresh(call)
    assert call.provider_call_id == provider_id
    assert (call.status, call.ended_reason) == (CallStatus.ENDED, truth["endedReason"])
    contact = session.get(Contact, call.contact_id)
    assert contact is not None and contact.status != ContactStatus.DISPATCHED
    assert counter_drift(session, campaign=_campaign_of(session, call)) == {}
    assert counted("orchestrator_ambiguous_creates", resolution="found") == before + 1


def test_a_call_the_provider_never_created_becomes_dialable_again(
    session: Session, provider: VapiClient
) -> None:
    (call,) = dialing_calls(session)
    dialed_at = call.dialed_at or utcnow()
    found = find_created_call(
        provider,
        call_id=call.id,
        phone_number_id=call.phone_number_id,
        dialed_at=dialed_at,
        latest_send=LATEST_SEND,
    )
    assert found is None
    before = counted("orchestrator_ambiguous_creates", resolution="not-created")
    resolution = settle_unknown_create(session, call_id=call.id, dialed_at=dialed_at, found=None)
    assert resolution == Resolution.NOT_CREATED
    session.refresh(call)
    assert (call.status, call.dialed_at) == (CallStatus.CLAIMED, None)
    assert counted("orchestrator_ambiguous_creates", resolution="not-created") == before + 1
    assert counter_drift(session, campaign=_campaign_of(session, call)) == {}


def test_an_answer_that_came_meanwhile_wins_over_the_sweep(
    session: Session, provider: VapiClient
) -> None:
    (call,) = dialing_calls(session)
    dialed_at = call.dialed_at or utcnow()
    record_provider_call(session, call_id=call.id, provider_call={"id": f"late-{uuid.uuid4()}"})
    assert (
        settle_unknown_create(session, call_id=call.id, dialed_at=dialed_at, found=None)
        == Resolution.SETTLED
    )
    session.refresh(call)
    assert call.status == CallStatus.QUEUED


def test_the_search_pages_through_the_numbers_calls(
    session: Session, provider: VapiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    (call,) = dialing_calls(session)
    provider_id = _create_at_provider(provider, call)
    for _ in range(4):  # later calls of the same number come first in the newest-first list
        # Pages are cut by creation time (milliseconds): a page of two calls made in one
        # millisecond could not be paged past, as a page of 1000 could not in production.
        time.sleep(0.003)
        provider.create_call(
            CreateCallRequest(
                assistant_id="assistant-1",
                phone_number_id=call.phone_number_id,
                customer={"number": "+14155550199"},
            )
        )
    monkeypatch.setattr(recovery, "LIST_PAGE", 2)
    found = find_created_call(
        provider,
        call_id=call.id,
        phone_number_id=call.phone_number_id,
        dialed_at=call.dialed_at or utcnow(),
        latest_send=LATEST_SEND,
    )
    assert found is not None and found["id"] == provider_id


def test_a_silent_call_is_brought_up_to_date_from_the_provider(
    session: Session, provider: VapiClient
) -> None:
    (call,) = dialing_calls(session)
    provider_id = _create_at_provider(provider, call)
    record_provider_call(session, call_id=call.id, provider_call={"id": provider_id})
    truth = _ended_at_provider(provider, provider_id)
    before = counted("orchestrator_calls_recovered", source="provider-poll")
    assert refresh_silent_call(session, call_id=call.id, provider_call=truth) is True
    session.refresh(call)
    assert (call.status, call.ended_reason) == (CallStatus.ENDED, truth["endedReason"])
    assert call.cost == truth["cost"]
    assert counted("orchestrator_calls_recovered", source="provider-poll") == before + 1
    # Asking again learns nothing new and changes nothing.
    assert apply_provider_view(session, provider_call=truth) is False
    assert counter_drift(session, campaign=_campaign_of(session, call)) == {}


def test_the_recovery_sweep_runs_on_the_beat() -> None:
    import workers.tasks  # noqa: F401  (a worker imports it: that registers the tasks)
    from workers.celery_app import celery_app

    entry = celery_app.conf.beat_schedule["call-recovery"]
    assert entry["task"] == "calls.recover"
    assert entry["schedule"] == get_settings().recovery_interval_seconds
    assert "calls.recover" in celery_app.tasks
