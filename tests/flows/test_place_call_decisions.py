"""A create the provider refused was still sent: its contact's history says it was dialed,
refused, in the transaction that records the refusal."""

from __future__ import annotations

from sqlalchemy.orm import Session

from orchestrator.calls.dialing import begin_dial
from orchestrator.clock import ManualClock
from orchestrator.config import get_settings
from orchestrator.flows.place_call import settle_failed_create
from orchestrator.models import Call
from orchestrator.orgs.service import CreatedOrg
from orchestrator.providers.errors import ProviderRateLimited, ProviderRejected
from orchestrator.reasons import PROVIDER_REJECTED
from tests.factories import decisions_of, dispatch_campaign, kinds_of, make_campaign, unit_of


def _dialing(session: Session, org: CreatedOrg, clock: ManualClock) -> Call:
    campaign_id = make_campaign(session, org=org, customers=1)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=clock.now, batch_limit=1)
    assert begin_dial(session, call_id=call_id, settings=get_settings()) is not None
    call = session.get(Call, call_id)
    assert call is not None and call.contact_id is not None
    return call


def test_a_refused_create_is_dialed_with_the_refusal_as_its_reason(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    call = _dialing(session, org, clock)
    assert call.contact_id is not None
    refused = ProviderRejected("customer.number must be a valid phone number", status_code=400)
    settle_failed_create(call.id, refused, unit_of_work=unit_of(session))

    claimed, dialed = decisions_of(session, contact_id=call.contact_id)
    assert (dialed.kind, dialed.reason, dialed.call_id) == ("dialed", PROVIDER_REJECTED, call.id)
    assert claimed.kind == "claimed"


def test_a_create_that_never_left_is_not_dialed(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    call = _dialing(session, org, clock)
    assert call.contact_id is not None
    settle_failed_create(call.id, ProviderRateLimited("slow down"), unit_of_work=unit_of(session))

    assert kinds_of(session, contact_id=call.contact_id) == [("claimed", None)]
