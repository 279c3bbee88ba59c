"""What a failed ``POST /call`` means for the call: look it up, wait and retry, or fail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.placing import PlaceOutcome
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.flows.place_call import settle_failed_create
from orchestrator.metrics.service import counted
from orchestrator.models import Call, CallStatus, Contact, ContactStatus, Org
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
from tests.factories import dispatch_campaign, make_campaign


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
