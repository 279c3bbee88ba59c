"""The scheduler tick, run inside the test's transaction: due orgs dispatched, lost claims
sent again, and every task sent only after the transaction that made it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.clock import ManualClock
from orchestrator.flows.tick import STALE_CLAIM_AFTER, redrive_stale_claims, run_tick
from orchestrator.models import Call, CallStatus
from orchestrator.orgs.service import CreatedOrg
from tests.factories import dispatch_campaign, fast_caller_number, make_campaign, unit_of


class Sent:
    """The calls a flow sent, and whether the flow's transaction was still open then."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.call_ids: list[uuid.UUID] = []
        self.open_transaction: list[bool] = []

    def __call__(self, call_ids: Sequence[uuid.UUID]) -> None:
        self.call_ids.extend(call_ids)
        self.open_transaction.append(self.session.in_transaction())


def test_a_tick_dispatches_a_due_campaign_and_sends_its_calls(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    fast_caller_number(session, org=org)
    campaign_id = make_campaign(session, org=org, customers=2)
    sent = Sent(session)

    run_tick(enqueue=sent, now=clock.now, unit_of_work=unit_of(session))

    calls = session.scalars(select(Call).where(Call.campaign_id == campaign_id)).all()
    assert len(calls) == 2
    assert {c.status for c in calls} == {CallStatus.CLAIMED}
    assert {c.id for c in calls} <= set(sent.call_ids)
    assert sent.open_transaction and not any(sent.open_transaction)


def test_claimed_calls_whose_tasks_were_lost_are_sent_again(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=clock.now, batch_limit=1)
    unit = unit_of(session)
    fresh = Sent(session)
    redrive_stale_claims(enqueue=fresh, now=clock.now, unit_of_work=unit)
    assert call_id not in fresh.call_ids, "its task may still be on its way"

    stale = Sent(session)
    later = clock.now + STALE_CLAIM_AFTER + timedelta(seconds=1)
    redrive_stale_claims(enqueue=stale, now=later, unit_of_work=unit)
    assert call_id in stale.call_ids
