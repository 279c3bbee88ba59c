"""The compliance gate at send time, with a real (simulated) provider over HTTP: a number
suppressed or capped after its call was claimed is never sent, and what happens instead; each
attempt that is sent goes into the ledger, and leaves it when nothing was created."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.calls.placing import PlaceOutcome
from orchestrator.campaigns.counters import counter_drift
from orchestrator.clock import ManualClock, utcnow
from orchestrator.db import session_scope
from orchestrator.flows import place_call as place_call_flow
from orchestrator.flows.place_call import place_call, settle_failed_create
from orchestrator.gate import repository as ledger
from orchestrator.models import Call, CallStatus, Campaign, Contact, ContactStatus, Org, Suppression
from orchestrator.orgs.service import CreatedOrg
from orchestrator.providers import VapiClient
from orchestrator.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
)
from orchestrator.reasons import FREQUENCY_CAP, SUPPRESSED
from orchestrator.simulator import FaultSpec
from orchestrator.suppression.gate_lock import wait_for_sends
from tests.factories import (
    attempts_to,
    claimed_direct_call,
    contacts_of,
    customer_numbers,
    decisions_of,
    dialing_calls,
    dispatch_campaign,
    kinds_of,
    make_campaign,
    make_org,
    record_attempt,
    set_caps,
    suppress_rows,
    unit_of,
)
from tests.support.simulators import Sim, drain, running

DAY = 86_400
NUMBER = customer_numbers(1, start=9_000)[0]


def _place(session: Session, call_id: uuid.UUID) -> PlaceOutcome:
    return place_call(call_id, unit_of_work=unit_of(session)).outcome


def _campaign_call(session: Session, **campaign: Any) -> tuple[CreatedOrg, Call]:
    """A new org's campaign of one customer (``NUMBER``), its call claimed."""
    org = make_org(session, name=f"gate-send-{uuid.uuid4()}")
    campaign_id = make_campaign(session, org=org, customers=[{"number": NUMBER}], **campaign)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=1)
    return org, session.get_one(Call, call_id)


def _call(session: Session, call_id: uuid.UUID) -> Call | None:
    return session.get(Call, call_id, populate_existing=True)


def _campaign(call: Call) -> uuid.UUID:
    assert call.campaign_id is not None
    return call.campaign_id


def _exact(session: Session, campaign_id: uuid.UUID | None) -> None:
    campaign = session.get_one(Campaign, campaign_id, populate_existing=True)
    assert counter_drift(session, campaign=campaign) == {}


@pytest.mark.usefixtures("sends_to", "limiter")
def test_a_sent_call_records_its_attempt_at_the_moment_it_is_sent(
    session: Session, provider: Sim
) -> None:
    org, call = _campaign_call(session)
    session.commit()
    before = utcnow()
    assert _place(session, call.id) == PlaceOutcome.PLACED
    (attempt,) = attempts_to(session, org=org, number=NUMBER)
    assert (attempt.call_id, attempt.campaign_id, attempt.channel) == (
        call.id,
        call.campaign_id,
        "call",
    )
    assert before <= attempt.sent_at <= utcnow()
    assert len(provider.creates_for(call.id)) == 1


@pytest.mark.usefixtures("sends_to", "limiter")
def test_a_number_suppressed_after_the_claim_is_never_sent_and_its_contact_skipped(
    session: Session, provider: Sim
) -> None:
    org, call = _campaign_call(session)
    suppress_rows(session, org=org, numbers=[NUMBER])
    session.commit()
    assert _place(session, call.id) == PlaceOutcome.HELD_BACK
    assert provider.simulator is not None
    drain(provider.simulator)
    assert provider.creates_for(call.id) == []
    unsent = _call(session, call.id)
    assert unsent is not None
    assert (unsent.status, unsent.ended_reason) == (CallStatus.FAILED, SUPPRESSED)
    (contact,) = contacts_of(session, campaign_id=_campaign(unsent))
    assert (contact.status, contact.status_reason) == (ContactStatus.SKIPPED, SUPPRESSED)
    assert kinds_of(session, contact_id=contact.id)[-2:] == [
        ("suppressed", "send"),
        ("skipped", SUPPRESSED),
    ]
    assert attempts_to(session, org=org, number=NUMBER) == []
    _exact(session, unsent.campaign_id)


@pytest.mark.usefixtures("sends_to", "limiter")
def test_a_direct_call_suppressed_after_it_was_accepted_ends_failed_unsent(
    session: Session, provider: Sim
) -> None:
    org = make_org(session, name=f"gate-send-{uuid.uuid4()}")
    call_id = claimed_direct_call(session, org=org)
    number = session.get_one(Call, call_id).customer["number"]
    suppress_rows(session, org=org, numbers=[number])
    session.commit()
    assert _place(session, call_id) == PlaceOutcome.HELD_BACK
    call = _call(session, call_id)
    assert call is not None and (call.status, call.ended_reason) == (CallStatus.FAILED, SUPPRESSED)
    assert call.provider_call_id is None and provider.creates_for(call_id) == []


@pytest.mark.usefixtures("sends_to", "limiter")
def test_capped_at_its_send_a_contact_waits_pending_until_its_allowance_frees(
    session: Session, provider: Sim
) -> None:
    org, call = _campaign_call(session)
    set_caps(session, org=org, caps=[(1, DAY)])
    sent = utcnow() - timedelta(hours=1)
    record_attempt(session, org=org, number=NUMBER, at=sent)
    session.commit()
    assert _place(session, call.id) == PlaceOutcome.HELD_BACK
    assert _call(session, call.id) is None, "the attempt never happened"
    assert provider.creates_for(call.id) == []
    (contact,) = contacts_of(session, campaign_id=_campaign(call))
    assert (contact.status, contact.attempts, contact.deferral) == (
        ContactStatus.PENDING,
        0,
        FREQUENCY_CAP,
    )
    assert contact.not_before == sent + timedelta(days=1)
    (waited,) = [d for d in decisions_of(session, contact_id=contact.id) if d.kind == "deferred"]
    assert (waited.reason, waited.retry_at) == (FREQUENCY_CAP, contact.not_before)
    _exact(session, call.campaign_id)


@pytest.mark.usefixtures("sends_to", "limiter")
def test_capped_past_its_windows_end_a_contact_is_skipped(session: Session) -> None:
    now = utcnow()
    plan = {"earliestAt": now.isoformat(), "latestAt": (now + timedelta(hours=2)).isoformat()}
    org, call = _campaign_call(session, schedulePlan=plan)
    set_caps(session, org=org, caps=[(1, DAY)])
    record_attempt(session, org=org, number=NUMBER, at=now - timedelta(hours=1))
    session.commit()
    assert _place(session, call.id) == PlaceOutcome.HELD_BACK
    (contact,) = contacts_of(session, campaign_id=_campaign(call))
    assert (contact.status, contact.status_reason) == (ContactStatus.SKIPPED, FREQUENCY_CAP)
    assert kinds_of(session, contact_id=contact.id)[-1] == ("skipped", FREQUENCY_CAP)
    _exact(session, call.campaign_id)


@pytest.mark.usefixtures("sends_to", "limiter")
def test_capped_at_its_send_a_direct_call_is_scheduled_again_for_its_allowance(
    session: Session, provider: Sim
) -> None:
    org = make_org(session, name=f"gate-send-{uuid.uuid4()}")
    call_id = claimed_direct_call(session, org=org)
    number = session.get_one(Call, call_id).customer["number"]
    set_caps(session, org=org, caps=[(2, DAY)])
    sent = utcnow() - timedelta(hours=3)
    record_attempt(session, org=org, number=number, at=sent)
    record_attempt(session, org=org, number=number, at=sent + timedelta(hours=1))
    session.commit()
    assert _place(session, call_id) == PlaceOutcome.HELD_BACK
    call = _call(session, call_id)
    assert call is not None
    assert (call.status, call.not_before, call.dialed_at) == (
        CallStatus.SCHEDULED,
        sent + timedelta(days=1),
        None,
    )
    assert provider.creates_for(call_id) == []


def _with_attempt(session: Session) -> Call:
    (call,) = dialing_calls(session)
    ledger.record_attempt(
        session,
        org_id=call.org_id,
        number=call.customer["number"],
        campaign_id=call.campaign_id,
        call_id=call.id,
        sent_at=utcnow(),
    )
    session.commit()
    return call


def _ledgered(session: Session, call: Call) -> int:
    found = ledger.attempts_since(
        session,
        org_id=call.org_id,
        numbers=[call.customer["number"]],
        since=utcnow() - timedelta(days=1),
    )
    return len(found)


@pytest.mark.parametrize(
    ("error", "kept"),
    [
        (ProviderTimeout("read timed out"), 1),
        (ProviderRateLimited("slow down"), 0),
        (ProviderRejected("customer.number is invalid", status_code=400), 0),
    ],
)
def test_an_attempt_counts_unless_the_provider_surely_created_nothing(
    session: Session, error: ProviderError, kept: int
) -> None:
    call = _with_attempt(session)
    settle_failed_create(call.id, error, unit_of_work=unit_of(session))
    assert _ledgered(session, call) == kept


# --- the suppression lock, across real connections -------------------------------------------


@pytest.fixture
def committed(engine: Engine) -> Iterator[Session]:
    """What the flow's own transactions and the writer's thread must see is committed; the
    org goes afterwards with everything of it."""
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    yield session
    session.rollback()
    session.execute(delete(Org).where(Org.name.like("gate-hold-%")))
    session.commit()
    session.close()


@pytest.fixture
def slow_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    """A provider that creates each call at once and answers the create a second later."""
    faults = FaultSpec(drop=1.0, create_timeout=1.0, timeout_hold=1.0)
    with (
        running(None, faults=faults) as sim,
        VapiClient(base_url=sim.base_url, api_key="hold-test", timeout=5) as client,
    ):
        monkeypatch.setattr(place_call_flow, "provider_client", lambda: client)
        yield sim


def _add_entry(org_id: uuid.UUID, number: str, locked: list[float]) -> None:
    """Suppress ``number`` as every writer of the list does: after ``wait_for_sends``."""
    with session_scope() as session:
        wait_for_sends(session, org_id=org_id)
        locked.append(time.monotonic())
        session.add(Suppression(org_id=org_id, number=number, reason="opt-out"))


@pytest.mark.usefixtures("limiter")
def test_an_entry_waits_for_the_send_in_flight_and_stops_every_send_after_it(
    committed: Session, slow_provider: Sim
) -> None:
    org = make_org(committed, name=f"gate-hold-{uuid.uuid4()}")
    later_number = customer_numbers(1, start=9_001)[0]
    customers = [{"number": NUMBER}, {"number": later_number}]
    campaign_id = make_campaign(committed, org=org, customers=customers)
    first, second = dispatch_campaign(
        committed, campaign_id=campaign_id, now=utcnow(), batch_limit=2
    )
    committed.commit()
    sending = threading.Thread(target=place_call, args=(first,))
    sending.start()
    deadline = time.monotonic() + 5
    while not slow_provider.creates_for(first) and time.monotonic() < deadline:
        time.sleep(0.01)
    created = time.monotonic()
    assert slow_provider.creates_for(first), "the first call reached the provider"
    locked: list[float] = []
    writer = threading.Thread(target=_add_entry, args=(org.org_id, later_number, locked))
    writer.start()
    writer.join(timeout=0.5)
    assert writer.is_alive(), "the entry waits while a send's create is unanswered"
    sending.join(timeout=5)
    writer.join(timeout=5)
    assert locked and locked[0] - created >= 0.5, "it was written once the answer came"
    # Sent after the entry was committed: the check sees it, and nothing leaves.
    assert place_call(second).outcome == PlaceOutcome.HELD_BACK
    assert slow_provider.creates_for(second) == []
    statuses = dict(
        committed.execute(
            select(Contact.number, Contact.status)
            .where(Contact.campaign_id == campaign_id)
            .execution_options(populate_existing=True)
        ).all()
    )
    assert statuses == {NUMBER: ContactStatus.DISPATCHED, later_number: ContactStatus.SKIPPED}


@pytest.mark.usefixtures("sends_to", "limiter")
def test_hours_that_closed_between_claim_and_send_hold_the_call_until_they_open(
    session: Session, provider: Sim, clock: ManualClock
) -> None:
    hours = {
        "windows": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "14:00", "end": "15:30"}
        ],
        "timezone": "UTC",
    }
    _, call = _campaign_call(session, callingHours=hours)
    session.commit()
    clock.advance(3600)  # 16:00 UTC on Monday: closed until Tuesday 14:00
    assert _place(session, call.id) == PlaceOutcome.HELD_BACK
    assert provider.creates_for(call.id) == []
    (contact,) = contacts_of(session, campaign_id=_campaign(call))
    assert (contact.status, contact.attempts, contact.deferral) == (
        ContactStatus.PENDING,
        0,
        "calling-hours",
    )
    assert contact.not_before == datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
    assert kinds_of(session, contact_id=contact.id)[-1] == ("deferred", "calling-hours")
    _exact(session, call.campaign_id)


@pytest.mark.usefixtures("sends_to", "limiter")
def test_a_contact_written_with_a_trunk_zero_is_held_by_its_canonical_entry(
    session: Session, provider: Sim
) -> None:
    org = make_org(session, name=f"gate-forms-{uuid.uuid4()}")
    campaign_id = make_campaign(session, org=org, customers=[{"number": "+4402079460958"}])
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=1)
    suppress_rows(session, org=org, numbers=["+442079460958"])
    session.commit()
    assert _place(session, call_id) == PlaceOutcome.HELD_BACK
    assert provider.creates_for(call_id) == []
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    assert (contact.status, contact.status_reason) == (ContactStatus.SKIPPED, SUPPRESSED)
