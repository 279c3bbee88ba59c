"""Placing a call against a real (simulated) provider over HTTP, with the real rate limiter:
sent exactly once, and only when it is still ours; and what a failed ``POST /call`` means for
the call: look it up, wait and retry, or fail."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.placing import PlaceOutcome
from orchestrator.campaigns.counters import counter_drift
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.flows.place_call import place_call, settle_failed_create
from orchestrator.metrics.service import counted
from orchestrator.models import Call, CallStatus, Campaign, Contact, ContactStatus, Org
from orchestrator.orgs.service import create_org
from orchestrator.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
)
from orchestrator.reasons import PROVIDER_REJECTED
from tests.factories import claimed_call, dispatch_campaign, end_call, make_campaign, unit_of
from tests.support.simulators import Sim


@pytest.fixture
def committed(engine: Engine) -> Iterator[Session]:
    """The placing code opens its own transactions: the call must be committed for it.

    Everything the test committed goes with its org afterwards, so other tests never see it.
    """
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    yield session
    session.rollback()
    session.execute(delete(Org).where(Org.name.like(f"{ORG_PREFIX}%")))
    session.commit()
    session.close()


ORG_PREFIX = "failed-create-"


def _dialing_call(session: Session) -> uuid.UUID:
    org = create_org(session, name=f"{ORG_PREFIX}{uuid.uuid4()}", concurrency_limit=10)
    campaign_id = make_campaign(session, org=org, customers=1)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=1)
    assert begin_dial(session, call_id=call_id, settings=get_settings()) is not None
    session.commit()
    return call_id


def _call(session: Session, call_id: uuid.UUID) -> Call:
    call = session.get(Call, call_id, populate_existing=True)
    assert call is not None
    return call


@pytest.mark.parametrize(
    "error",
    [ProviderTimeout("read timed out"), ProviderServerError("bad gateway", status_code=502)],
)
def test_an_ambiguous_failure_leaves_the_call_dialing_for_the_lookup(
    committed: Session, error: ProviderError
) -> None:
    call_id = _dialing_call(committed)
    before = counted("orchestrator_ambiguous_creates", resolution="pending")
    assert settle_failed_create(call_id, error).outcome == PlaceOutcome.UNKNOWN
    call = _call(committed, call_id)
    assert call.status == CallStatus.DIALING
    assert call.dialed_at is not None, "the sweep finds it by its dial time"
    assert counted("orchestrator_ambiguous_creates", resolution="pending") == before + 1


@pytest.mark.parametrize(
    ("error", "wait"),
    [
        (ProviderRateLimited("slow down", retry_after=7.0), 7.0),
        (ProviderRateLimited("slow down"), 2.0),
        (ProviderUnreachable("connection refused"), 2.0),
    ],
)
def test_when_nothing_was_created_the_call_waits_and_is_sent_again(
    committed: Session, error: ProviderError, wait: float
) -> None:
    call_id = _dialing_call(committed)
    result = settle_failed_create(call_id, error)
    assert (result.outcome, result.retry_after_seconds) == (PlaceOutcome.WAITING, wait)
    call = _call(committed, call_id)
    assert (call.status, call.dialed_at) == (CallStatus.CLAIMED, None)


def test_a_refused_create_fails_the_contact_with_the_providers_message(
    committed: Session,
) -> None:
    call_id = _dialing_call(committed)
    error = ProviderRejected("customer.number must be a valid phone number", status_code=400)
    assert settle_failed_create(call_id, error).outcome == PlaceOutcome.FAILED
    call = _call(committed, call_id)
    assert (call.status, call.ended_reason) == (CallStatus.FAILED, PROVIDER_REJECTED)
    assert call.error_message == "customer.number must be a valid phone number"
    contact = committed.get(Contact, call.contact_id, populate_existing=True)
    assert contact is not None and contact.status == ContactStatus.FAILED


# --- placing a call, inside the test's transaction ----------------------------------------------


def _place(session: Session, call_id: uuid.UUID) -> PlaceOutcome:
    return place_call(call_id, unit_of_work=unit_of(session)).outcome


def _exact(session: Session, call: Call) -> None:
    campaign = session.get(Campaign, call.campaign_id, populate_existing=True)
    assert campaign is not None
    assert counter_drift(session, campaign=campaign) == {}


@pytest.mark.usefixtures("sends_to", "limiter")
def test_a_claimed_call_is_sent_once_and_queued_with_the_providers_id(
    session: Session, provider: Sim
) -> None:
    call = claimed_call(session, customers=1)
    session.commit()
    assert _place(session, call.id) == PlaceOutcome.PLACED
    placed = _call(session, call.id)
    (created,) = provider.creates_for(call.id)
    assert (placed.status, placed.provider_call_id) == (CallStatus.QUEUED, created["id"])
    assert placed.dialed_at is not None
    _exact(session, placed)


@pytest.mark.usefixtures("sends_to", "limiter")
def test_placing_the_same_call_again_sends_nothing_more(session: Session, provider: Sim) -> None:
    call = claimed_call(session, customers=1)
    session.commit()
    assert _place(session, call.id) == PlaceOutcome.PLACED
    provider_call_id = _call(session, call.id).provider_call_id
    assert _place(session, call.id) == PlaceOutcome.NOT_MINE
    again = _call(session, call.id)
    assert (again.status, again.provider_call_id) == (CallStatus.QUEUED, provider_call_id)
    assert len(provider.creates_for(call.id)) == 1
    _exact(session, again)


def _dialing(session: Session, call: Call) -> None:
    assert begin_dial(session, call_id=call.id, settings=get_settings()) is not None


def _ended(session: Session, call: Call) -> None:
    _dialing(session, call)
    end_call(session, call_id=call.id, reason="customer-ended-call")


@pytest.mark.usefixtures("sends_to", "limiter")
@pytest.mark.parametrize(
    ("taken", "status"), [(_dialing, CallStatus.DIALING), (_ended, CallStatus.ENDED)]
)
def test_a_call_no_longer_claimed_is_not_mine_and_nothing_is_sent(
    session: Session, provider: Sim, taken: Callable[[Session, Call], None], status: CallStatus
) -> None:
    call = claimed_call(session, customers=1)
    taken(session, call)
    session.commit()
    assert _place(session, call.id) == PlaceOutcome.NOT_MINE
    assert _call(session, call.id).status == status
    assert provider.creates_for(call.id) == []
    _exact(session, call)
