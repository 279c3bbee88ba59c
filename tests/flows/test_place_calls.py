"""Placing a batch of claimed calls against a real (simulated) provider over HTTP, with the
real rate limiter: each call sent once, at its slot, through the send-time gate; those not due
within the batch handed back holding their slot, and nothing recorded for them."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from orchestrator.calls.placing import PlaceOutcome, PlaceResult
from orchestrator.campaigns.counters import counter_drift
from orchestrator.clock import utcnow
from orchestrator.flows import place_calls as place_calls_flow
from orchestrator.flows.place_call import TimedCreate, create_timed, place_call
from orchestrator.flows.place_calls import place_calls
from orchestrator.models import Call, CallStatus, Campaign, ContactStatus
from orchestrator.phone_numbers.repository import upsert_pacing
from orchestrator.providers.vapi import CreateCallRequest
from orchestrator.reasons import SUPPRESSED
from tests.factories import (
    attempts_to,
    contacts_of,
    direct_call,
    dispatch_campaign,
    fast_caller_number,
    make_campaign,
    make_org,
    record_attempt,
    set_caps,
    suppress_rows,
    unit_of,
)
from tests.support.simulators import Sim

pytestmark = pytest.mark.usefixtures("sends_to", "limiter")


class HandedBack(list[tuple[uuid.UUID, PlaceResult]]):
    def __call__(self, call_id: uuid.UUID, result: PlaceResult) -> None:
        self.append((call_id, result))


def _claimed(session: Session, *, customers: int, **campaign: Any) -> tuple[Any, list[uuid.UUID]]:
    org = make_org(session, name=f"batch-{uuid.uuid4()}", concurrency_limit=100)
    campaign_id = make_campaign(session, org=org, customers=customers, **campaign)
    ids = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=customers)
    assert len(ids) == customers
    session.commit()
    return org, ids


def _place(session: Session, ids: list[uuid.UUID], back: HandedBack) -> dict[Any, PlaceOutcome]:
    return place_calls(ids, hand_back=back, unit_of_work=unit_of(session))


def _call_or_none(session: Session, call_id: uuid.UUID) -> Call | None:
    return session.get(Call, call_id, populate_existing=True)


def _call(session: Session, call_id: uuid.UUID) -> Call:
    call = _call_or_none(session, call_id)
    assert call is not None
    return call


def _exact(session: Session, call_id: uuid.UUID) -> None:
    campaign = session.get(Campaign, _call(session, call_id).campaign_id, populate_existing=True)
    assert campaign is not None
    assert counter_drift(session, campaign=campaign) == {}


def test_each_call_of_a_batch_is_sent_once_and_queued_with_its_providers_id(
    session: Session, provider: Sim
) -> None:
    org, ids = _claimed(session, customers=6)
    back = HandedBack()
    assert _place(session, ids, back) == dict.fromkeys(ids, PlaceOutcome.PLACED)
    assert back == []
    for call_id in ids:
        call = _call(session, call_id)
        (created,) = provider.creates_for(call_id)
        assert (call.status, call.provider_call_id) == (CallStatus.QUEUED, created["id"])
        (attempt,) = attempts_to(session, org=org, number=call.customer["number"])
        assert attempt.call_id == call_id
    assert _place(session, ids, back) == dict.fromkeys(ids, PlaceOutcome.NOT_MINE)
    assert all(len(provider.creates_for(call_id)) == 1 for call_id in ids)
    _exact(session, ids[0])


def test_calls_not_due_within_the_batch_are_handed_back_holding_their_slots(
    session: Session, provider: Sim
) -> None:
    org, ids = _claimed(session, customers=4)
    # Two a second: the first goes now, the next slots are half a second apart.
    upsert_pacing(
        session, org_id=org.org_id, provider_id="phone-1", calls_per_second=2, max_concurrency=None
    )
    session.commit()
    back = HandedBack()
    outcomes = _place(session, ids, back)
    assert outcomes[ids[0]] == PlaceOutcome.PLACED
    assert [call_id for call_id, _ in back] == ids[1:]
    waits = [result.retry_after_seconds for _, result in back]
    assert waits == sorted(waits) and waits[0] > 0.25
    for call_id, result in back:
        assert (outcomes[call_id], result.outcome) == (PlaceOutcome.WAITING, PlaceOutcome.WAITING)
        assert result.reservation is not None
        call = _call(session, call_id)
        assert (call.status, call.dialed_at) == (CallStatus.CLAIMED, None)
        assert provider.creates_for(call_id) == []
        assert attempts_to(session, org=org, number=call.customer["number"]) == []
    # Handed back, a call is placed on its own once its slot comes, holding it.
    call_id, result = back[0]
    time.sleep(result.retry_after_seconds)
    placed = place_call(call_id, reservation=result.reservation, unit_of_work=unit_of(session))
    assert placed.outcome == PlaceOutcome.PLACED
    assert len(provider.creates_for(call_id)) == 1
    _exact(session, call_id)


def test_a_suppressed_number_in_a_batch_is_held_back_and_the_others_go(
    session: Session, provider: Sim
) -> None:
    org, ids = _claimed(session, customers=3)
    held = _call(session, ids[1])
    suppress_rows(session, org=org, numbers=[held.customer["number"]])
    session.commit()
    back = HandedBack()
    outcomes = _place(session, ids, back)
    assert outcomes == {
        ids[0]: PlaceOutcome.PLACED,
        ids[1]: PlaceOutcome.HELD_BACK,
        ids[2]: PlaceOutcome.PLACED,
    }
    assert provider.creates_for(ids[1]) == []
    assert _call(session, ids[1]).status == CallStatus.FAILED
    assert held.campaign_id is not None
    contact = next(
        c for c in contacts_of(session, campaign_id=held.campaign_id) if c.id == held.contact_id
    )
    assert (contact.status, contact.status_reason) == (ContactStatus.SKIPPED, SUPPRESSED)
    assert attempts_to(session, org=org, number=held.customer["number"]) == []
    _exact(session, ids[0])


def test_a_capped_number_in_a_batch_waits_and_the_others_go(
    session: Session, provider: Sim
) -> None:
    org, ids = _claimed(session, customers=3)
    number = _call(session, ids[0]).customer["number"]
    # Reached elsewhere since the claim: its one attempt a day is used up.
    set_caps(session, org=org, caps=[(1, 86_400)])
    record_attempt(session, org=org, number=number, at=utcnow())
    session.commit()
    outcomes = _place(session, ids, HandedBack())
    assert outcomes == {
        ids[0]: PlaceOutcome.HELD_BACK,
        ids[1]: PlaceOutcome.PLACED,
        ids[2]: PlaceOutcome.PLACED,
    }
    assert provider.creates_for(ids[0]) == []
    assert len(attempts_to(session, org=org, number=number)) == 1
    assert _call_or_none(session, ids[0]) is None, "its claim is let go"
    campaign_id = _call(session, ids[1]).campaign_id
    assert campaign_id is not None
    contact = next(c for c in contacts_of(session, campaign_id=campaign_id) if c.number == number)
    assert contact.status == ContactStatus.PENDING, "capped: it waits for its allowance"
    _exact(session, ids[1])


def test_two_calls_to_one_number_in_a_batch_take_its_one_allowance_once(
    session: Session, provider: Sim
) -> None:
    org = make_org(session, name=f"batch-{uuid.uuid4()}", concurrency_limit=10)
    fast_caller_number(session, org=org)
    set_caps(session, org=org, caps=[(1, 86_400)])
    customer = {"number": "+14155550177"}
    ids = [
        direct_call(session, org=org, status=CallStatus.CLAIMED, customer=customer)
        for _ in range(2)
    ]
    session.commit()
    outcomes = _place(session, ids, HandedBack())
    assert outcomes == {ids[0]: PlaceOutcome.PLACED, ids[1]: PlaceOutcome.HELD_BACK}
    assert [len(provider.creates_for(call_id)) for call_id in ids] == [1, 0]
    (attempt,) = attempts_to(session, org=org, number="+14155550177")
    assert attempt.call_id == ids[0]


def test_calls_that_cannot_go_soon_after_their_claim_are_let_go_and_handed_back(
    session: Session, provider: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, ids = _claimed(session, customers=3)
    # No time left at all: as if every sending thread stayed busy past the deadline.
    monkeypatch.setattr(place_calls_flow, "SEND_DEADLINE_SECONDS", 0.0)
    back = HandedBack()
    assert _place(session, ids, back) == dict.fromkeys(ids, PlaceOutcome.WAITING)
    assert [call_id for call_id, _ in back] == ids
    for call_id in ids:
        call = _call(session, call_id)
        assert (call.status, call.dialed_at) == (CallStatus.CLAIMED, None)
        assert provider.creates_for(call_id) == []
        assert attempts_to(session, org=org, number=call.customer["number"]) == []
    _exact(session, ids[0])


def test_a_create_that_fails_unexpectedly_leaves_its_call_for_the_lookup_and_the_rest_go(
    session: Session, provider: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, ids = _claimed(session, customers=3)

    def flaky(request: CreateCallRequest) -> TimedCreate:
        overrides = request.assistant_overrides or {}
        if overrides["metadata"]["orchestratorCallId"] == str(ids[1]):
            raise RuntimeError("the connection pool broke")
        return create_timed(request)

    monkeypatch.setattr(place_calls_flow, "create_timed", flaky)
    outcomes = _place(session, ids, HandedBack())
    assert outcomes == {
        ids[0]: PlaceOutcome.PLACED,
        ids[1]: PlaceOutcome.UNKNOWN,
        ids[2]: PlaceOutcome.PLACED,
    }
    # It may have reached the provider: it stays dialing until a webhook or the sweep says.
    unknown = _call(session, ids[1])
    assert (unknown.status, unknown.provider_call_id) == (CallStatus.DIALING, None)
    assert _call(session, ids[2]).status == CallStatus.QUEUED
    _exact(session, ids[0])
