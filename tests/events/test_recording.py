"""Events are written in the transaction of the change they report, once per change."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from orchestrator.calls.service import record_provider_call
from orchestrator.campaigns.schemas import UpdateCampaignIn
from orchestrator.campaigns.service import delete_campaign, update_campaign
from orchestrator.clock import utcnow
from orchestrator.events.states import TERMINAL_CONTACT_EVENTS
from orchestrator.flows.tick import run_tick
from orchestrator.models import Contact
from orchestrator.orgs.service import CreatedOrg
from orchestrator.webhooks.applying import apply_pending_events
from orchestrator.webhooks.messages import new_event
from orchestrator.webhooks.storing import store_events
from tests.factories import (
    answer_call,
    contacts_of,
    dispatch_campaign,
    end_call,
    event_types,
    events_of,
    make_campaign,
    server_campaign,
    unit_of,
    whole_call,
)


def _dispatch(session: Session, campaign_id: uuid.UUID, limit: int = 50) -> list[uuid.UUID]:
    return dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=limit)


@contextmanager
def _event_inserts(session: Session) -> Iterator[list[str]]:
    """The statements that write campaign events while the block runs."""
    seen: list[str] = []

    def before(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith("INSERT INTO campaign_events"):
            seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_a_campaign_without_a_server_records_nothing(session: Session, org: CreatedOrg) -> None:
    campaign_id = make_campaign(session, org=org, customers=3)
    _dispatch(session, campaign_id)
    assert event_types(session, campaign_id=campaign_id) == []


def test_a_dispatch_starts_the_campaign_and_dispatches_each_contact(
    session: Session, org: CreatedOrg
) -> None:
    campaign_id = server_campaign(session, org=org, customers=3)
    with _event_inserts(session) as inserts:
        _dispatch(session, campaign_id)
    events = events_of(session, campaign_id=campaign_id)
    assert [e.event_type for e in events] == ["campaign.started"] + ["contact.dispatched"] * 3
    contact_ids = {str(c.id) for c in contacts_of(session, campaign_id=campaign_id)}
    assert {e.data["contactId"] for e in events[1:]} == contact_ids
    assert len(inserts) == 2, "the start, then every claimed contact in one statement"
    assert all(e.status == "pending" and e.sequence is None for e in events)


def test_server_messages_select_the_types_recorded(session: Session, org: CreatedOrg) -> None:
    campaign_id = server_campaign(
        session, org=org, customers=2, serverMessages=["contact.completed", "campaign.ended"]
    )
    call_ids = _dispatch(session, campaign_id)
    for call_id in call_ids:
        answer_call(session, call_id=call_id)
        end_call(session, call_id=call_id, reason="customer-ended-call")
    assert event_types(session, campaign_id=campaign_id) == [
        "contact.completed",
        "contact.completed",
        "campaign.ended",
    ]


def test_a_call_that_ends_settles_its_contact_with_the_call_and_its_reason(
    session: Session, org: CreatedOrg
) -> None:
    campaign_id = server_campaign(session, org=org, customers=2)
    first, second = _dispatch(session, campaign_id)
    answer_call(session, call_id=first)
    end_call(session, call_id=first, reason="customer-ended-call")
    answer_call(session, call_id=second)
    end_call(session, call_id=second, reason="customer-did-not-answer")
    events = events_of(session, campaign_id=campaign_id)
    ends = [(e.event_type, e.data) for e in events if e.event_type in TERMINAL_CONTACT_EVENTS]
    contact_of = {c.id: str(c.id) for c in contacts_of(session, campaign_id=campaign_id)}
    assert len(ends) == 2 and len(contact_of) == 2
    assert ends[0] == (
        "contact.completed",
        {
            "contactId": ends[0][1]["contactId"],
            "callId": str(first),
            "endedReason": "customer-ended-call",
        },
    )
    assert ends[1][0] == "contact.failed"
    assert ends[1][1]["callId"] == str(second)
    assert ends[1][1]["endedReason"] == "customer-did-not-answer"
    assert events[-1].event_type == "campaign.ended"
    assert events[-1].data == {"endedReason": "campaign.ended.success"}


def test_a_batch_of_webhooks_records_its_contacts_events_in_one_statement(
    session: Session, org: CreatedOrg, no_other_webhook_events: None
) -> None:
    campaign_id = server_campaign(session, org=org, customers=5)
    calls = []
    for call_id in _dispatch(session, campaign_id):
        call = record_provider_call(
            session, call_id=call_id, provider_call={"id": str(uuid.uuid4())}
        )
        assert call is not None
        calls.append(call)
    messages = [m for call in calls for m in whole_call(call, ended_reason="customer-ended-call")]
    store_events(session, [new_event(m) for m in messages])
    with _event_inserts(session) as inserts:
        apply_pending_events(session)
    completed = [
        e
        for e in events_of(session, campaign_id=campaign_id)
        if e.event_type == "contact.completed"
    ]
    assert sorted(e.data["callId"] for e in completed) == sorted(str(c.id) for c in calls)
    assert len(inserts) == 2, "the batch's contacts in one statement, then the campaign's end"
    assert event_types(session, campaign_id=campaign_id)[-1] == "campaign.ended"


def test_stopping_skips_waiting_contacts_and_cancels_once(
    session: Session, org: CreatedOrg
) -> None:
    campaign_id = server_campaign(session, org=org, customers=4)
    (claimed,) = _dispatch(session, campaign_id, limit=1)
    update_campaign(
        session,
        org_id=org.org_id,
        campaign_id=str(campaign_id),
        body=UpdateCampaignIn.model_validate({"status": "cancelled"}),
    )
    delete_campaign(session, org_id=org.org_id, campaign_id=str(campaign_id))
    types = event_types(session, campaign_id=campaign_id)
    assert Counter(types) == {
        "campaign.started": 1,
        "contact.dispatched": 1,
        "contact.skipped": 4,  # three never dialed, one whose claimed call never left
        "campaign.cancelled": 1,
        "campaign.archived": 1,
    }
    assert types[-2:] == ["campaign.cancelled", "campaign.archived"]
    cancelled = events_of(session, campaign_id=campaign_id)[-2]
    assert cancelled.data == {"endedReason": "campaign.in-progress.ended-by-user"}
    skipped = {
        e.data["contactId"]
        for e in events_of(session, campaign_id=campaign_id)
        if e.event_type == "contact.skipped"
    }
    assert skipped == {str(c.id) for c in contacts_of(session, campaign_id=campaign_id)}
    assert claimed


def test_a_window_that_closes_ends_the_campaign_with_its_contacts(
    session: Session, org: CreatedOrg
) -> None:
    from datetime import timedelta

    from tests.factories import force_campaign

    campaign_id = server_campaign(session, org=org, customers=2)
    force_campaign(session, campaign_id=str(campaign_id), latest_at=utcnow() - timedelta(seconds=1))
    run_tick(enqueue=lambda _: None, unit_of_work=unit_of(session))
    assert Counter(event_types(session, campaign_id=campaign_id)) == {
        "contact.skipped": 2,
        "campaign.ended": 1,
    }


@pytest.mark.parametrize("reason", ["customer-ended-call"])
def test_a_contact_has_one_terminal_event(session: Session, org: CreatedOrg, reason: str) -> None:
    campaign_id = server_campaign(session, org=org, customers=3)
    for call_id in _dispatch(session, campaign_id):
        answer_call(session, call_id=call_id)
        end_call(session, call_id=call_id, reason=reason)
        end_call(session, call_id=call_id, reason=reason)  # a repeated end changes nothing
    terminal = Counter(
        e.data["contactId"]
        for e in events_of(session, campaign_id=campaign_id)
        if e.event_type in TERMINAL_CONTACT_EVENTS
    )
    assert sorted(terminal.values()) == [1, 1, 1]
    assert session.query(Contact).filter_by(campaign_id=campaign_id).count() == 3
