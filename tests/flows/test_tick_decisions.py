"""A contact's history over a night, tick after tick on a controlled clock: one deferral for
the closed calling hours however many ticks run, then its claim at opening and its dial
against a real (simulated) provider."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from orchestrator.calls.placing import PlaceOutcome
from orchestrator.clock import ManualClock
from orchestrator.flows.place_call import place_call
from orchestrator.flows.tick import run_tick
from orchestrator.orgs.service import CreatedOrg
from orchestrator.wire import iso
from tests.factories import contacts_of, decisions_of, fast_caller_number, make_campaign, unit_of

HOURS = {
    "windows": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "20:00"}],
    "timezone": "contact",
}
# Monday 20:30 in New York (EST): closed until Tuesday 09:00, 14:00 UTC.
EVENING = datetime(2026, 3, 3, 1, 30, tzinfo=UTC)
OPENING = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)


class Sent:
    def __init__(self) -> None:
        self.call_ids: list[uuid.UUID] = []

    def __call__(self, call_ids: Sequence[uuid.UUID]) -> None:
        self.call_ids.extend(call_ids)


@pytest.mark.usefixtures("sends_to", "limiter")
def test_a_night_under_closed_hours_is_one_deferral_then_the_claim_and_the_dial(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    clock.set(EVENING)
    fast_caller_number(session, org=org)
    campaign_id = make_campaign(
        session,
        org=org,
        customers=[{"number": "+12125550100", "name": "new-york"}],
        callingHours=HOURS,
    )
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    sent = Sent()
    ticks = 0
    while clock.now < OPENING:
        run_tick(enqueue=sent, now=clock.now, unit_of_work=unit_of(session))
        ticks += 1
        clock.advance(300)
    assert ticks > 100 and sent.call_ids == []
    (waiting,) = decisions_of(session, contact_id=contact.id)
    assert (waiting.kind, waiting.reason, waiting.at) == ("deferred", "calling-hours", EVENING)
    assert waiting.retry_at == OPENING

    clock.set(OPENING)
    run_tick(enqueue=sent, now=clock.now, unit_of_work=unit_of(session))
    (call_id,) = sent.call_ids
    clock.advance(2)
    assert place_call(call_id, unit_of_work=unit_of(session)).outcome == PlaceOutcome.PLACED
    for _ in range(3):
        run_tick(enqueue=sent, now=clock.now, unit_of_work=unit_of(session))

    history = decisions_of(session, contact_id=contact.id)
    assert [(d.kind, d.reason, d.call_id) for d in history] == [
        ("deferred", "calling-hours", None),
        ("claimed", None, call_id),
        ("dialed", None, call_id),
    ]
    assert [iso(d.at) for d in history[1:]] == [iso(OPENING), iso(OPENING + timedelta(seconds=2))]
