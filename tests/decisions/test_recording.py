"""Recording decisions: in order, each with its contact's campaign and org, and a deferral only
when the contact's reason to wait changes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.calls.service import return_call_to_pending
from orchestrator.clock import ManualClock
from orchestrator.decisions.decision import DeferralReason, GateStage
from orchestrator.decisions.recording import (
    Decision,
    Deferral,
    record_decisions,
    record_deferrals,
    record_each_deferral,
    suppression_decision,
)
from orchestrator.models import Call, Contact, ContactStatus, DecisionKind, Org, Suppression
from orchestrator.orgs.service import CreatedOrg
from tests.factories import (
    contacts_of,
    decisions_of,
    dispatch_campaign,
    end_call,
    kinds_of,
    make_campaign,
    make_org,
)


def test_decisions_are_written_in_order_with_their_contacts_campaign_and_org(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = make_campaign(session, org=org, customers=2)
    first, second = contacts_of(session, campaign_id=campaign_id)
    written = record_decisions(
        session,
        [
            Decision(second.id, DecisionKind.SKIPPED, reason="x", detail={"n": [1, "two"]}),
            Decision(first.id, DecisionKind.CLAIMED, call_id=first.id),
            Decision(second.id, DecisionKind.CLOSED, at=clock.now - timedelta(hours=1)),
            Decision(uuid.uuid4(), DecisionKind.CLAIMED),
        ],
    )

    assert written == 3, "a decision about a contact that does not exist is dropped"
    rows = decisions_of(session, contact_id=second.id)
    assert [(r.kind, r.reason, r.detail) for r in rows] == [
        (DecisionKind.SKIPPED, "x", {"n": [1, "two"]}),
        (DecisionKind.CLOSED, None, None),
    ]
    assert [r.at for r in rows] == [clock.now, clock.now - timedelta(hours=1)]
    assert {(r.org_id, r.campaign_id) for r in rows} == {(org.org_id, campaign_id)}
    (claimed,) = decisions_of(session, contact_id=first.id)
    assert (claimed.call_id, claimed.retry_at) == (first.id, None)


def test_a_deferral_is_recorded_once_per_reason_change(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = make_campaign(session, org=org, customers=2)
    ids = [contact.id for contact in contacts_of(session, campaign_id=campaign_id)]
    later = clock.now + timedelta(hours=9)

    def defer(reason: str) -> int:
        recorded = record_deferrals(
            session, contact_ids=ids, reason=reason, retry_at=later, now=clock.now
        )
        assert recorded <= set(ids)
        return len(recorded)

    assert defer(DeferralReason.CALLING_HOURS) == 2
    for _ in range(5):
        assert defer(DeferralReason.CALLING_HOURS) == 0
    assert defer(DeferralReason.CAPACITY) == 2
    assert defer(DeferralReason.CALLING_HOURS) == 2

    assert kinds_of(session, contact_id=ids[0]) == [
        ("deferred", "calling-hours"),
        ("deferred", "capacity"),
        ("deferred", "calling-hours"),
    ]
    (row, *_) = decisions_of(session, contact_id=ids[0])
    assert (row.retry_at, row.at, row.call_id) == (later, clock.now, None)
    waiting = session.scalars(select(Contact.deferral).where(Contact.id.in_(ids))).all()
    assert waiting == ["calling-hours", "calling-hours"]


def test_a_claim_ends_the_wait_so_the_same_reason_after_it_is_a_new_decision(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    reason = DeferralReason.CAPACITY
    assert record_deferrals(
        session, contact_ids=[contact.id], reason=reason, retry_at=None, now=clock.now
    )
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=clock.now, batch_limit=1)
    session.refresh(contact)
    assert contact.deferral is None
    # Held back at send (a frequency cap): the contact waits again, pending.
    assert return_call_to_pending(session, session.get_one(Call, call_id))

    assert record_deferrals(
        session, contact_ids=[contact.id], reason=reason, retry_at=None, now=clock.now
    )
    assert kinds_of(session, contact_id=contact.id) == [
        ("deferred", "capacity"),
        ("claimed", None),
        ("deferred", "capacity"),
    ]
    assert decisions_of(session, contact_id=contact.id)[1].call_id == call_id


def test_a_contact_that_ended_gets_no_deferral_after_its_last_decision(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=clock.now, batch_limit=1)
    end_call(session, call_id=call_id, reason="customer-ended-call")
    session.refresh(contact)
    assert contact.status == ContactStatus.COMPLETED
    history = kinds_of(session, contact_id=contact.id)

    recorded = record_deferrals(
        session,
        contact_ids=[contact.id],
        reason=DeferralReason.CAPACITY,
        retry_at=None,
        now=clock.now,
    )

    assert recorded == set()
    assert kinds_of(session, contact_id=contact.id) == history
    session.refresh(contact)
    assert contact.deferral is None


def test_each_deferral_keeps_its_own_time_and_detail(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = make_campaign(session, org=org, customers=2)
    first, second = contacts_of(session, campaign_id=campaign_id)
    soon = clock.now + timedelta(minutes=5)
    recorded = record_each_deferral(
        session,
        [
            Deferral(first.id, DeferralReason.FREQUENCY_CAP, soon, {"periodSeconds": 86400}),
            Deferral(second.id, DeferralReason.CALLING_HOURS),
            Deferral(second.id, DeferralReason.CAPACITY, None, {"limit": "org"}),
        ],
        now=clock.now,
    )

    assert recorded == {first.id, second.id}, "one deferral per contact: the last one given"
    (capped,) = decisions_of(session, contact_id=first.id)
    assert (capped.reason, capped.retry_at, capped.detail) == (
        "frequency-cap",
        soon,
        {"periodSeconds": 86400},
    )
    (held,) = decisions_of(session, contact_id=second.id)
    assert (held.reason, held.retry_at, held.detail) == ("capacity", None, {"limit": "org"})
    assert record_each_deferral(session, [], now=clock.now) == set()


def test_a_suppression_decision_names_the_entry_and_where_the_gate_found_it(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    entry = Suppression(
        org_id=org.org_id,
        number="+14155550100",
        reason="opt-out",
        source="call 42",
        created_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
    )
    decision = suppression_decision(
        contact.id, stage=GateStage.SEND, number="+14155550100", entry=entry
    )
    bare = suppression_decision(contact.id, stage=GateStage.CLAIM, number="+14155550100")
    record_decisions(session, [bare, decision])

    rows = decisions_of(session, contact_id=contact.id)
    assert [(r.kind, r.reason) for r in rows] == [
        (DecisionKind.SUPPRESSED, "claim"),
        (DecisionKind.SUPPRESSED, "send"),
    ]
    assert rows[0].detail == {"number": "+14155550100"}
    assert rows[1].detail == {
        "number": "+14155550100",
        "entry": {
            "reason": "opt-out",
            "source": "call 42",
            "createdAt": "2026-03-01T09:30:00.000Z",
            "expiresAt": None,
        },
    }


def test_a_contact_another_transaction_holds_is_passed_over_not_waited_for(
    engine: Engine, clock: ManualClock
) -> None:
    maker = sessionmaker(bind=engine, expire_on_commit=False)
    with maker() as setup:
        org = make_org(setup, name=f"held-{uuid.uuid4()}")
        campaign_id = make_campaign(setup, org=org, customers=2)
        held, free = contacts_of(setup, campaign_id=campaign_id)
        setup.commit()
    try:
        with maker() as holder, maker() as scheduler:
            holder.execute(select(Contact).where(Contact.id == held.id).with_for_update())
            scheduler.execute(text("SET LOCAL lock_timeout = '2s'"))
            recorded = record_deferrals(
                scheduler,
                contact_ids=[held.id, free.id],
                reason=DeferralReason.CAPACITY,
                retry_at=None,
                now=clock.now,
            )
            assert recorded == {free.id}, "the held contact is left out, so a caller can tell"
            assert [d.contact_id for d in decisions_of(scheduler, contact_id=free.id)] == [free.id]
            assert decisions_of(scheduler, contact_id=held.id) == []
            unmarked = select(Contact.deferral).where(Contact.id == held.id)
            assert scheduler.scalar(unmarked) is None, "neither recorded nor marked"
    finally:
        with maker() as cleanup:
            cleanup.execute(delete(Org).where(Org.id == org.org_id))
            cleanup.commit()
