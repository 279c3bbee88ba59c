"""Closing a campaign's waiting contacts records each one's decision in the closing statement
itself: as many statements for thousands of contacts as for a handful."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.service import record_provider_call
from orchestrator.clock import ManualClock
from orchestrator.config import get_settings
from orchestrator.contacts.closing import close_pending_contacts
from orchestrator.models import ContactStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.reasons import WINDOW_CLOSED
from tests.factories import (
    campaign_decisions,
    campaign_drift,
    contacts_of,
    customer_numbers,
    dispatch_campaign,
    end_call,
    kinds_of,
    make_campaign,
)


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements the session's connection runs meanwhile."""
    seen: list[str] = []
    connection = session.connection()

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def _closed_with_statements(session: Session, org: CreatedOrg, count: int) -> tuple[uuid.UUID, int]:
    campaign_id = make_campaign(
        session, org=org, customers=[{"number": n} for n in customer_numbers(count)]
    )
    session.flush()
    with statements(session) as seen:
        closed = close_pending_contacts(session, campaign_id=campaign_id, reason=WINDOW_CLOSED)
    assert closed == count
    return campaign_id, len(seen)


def test_thousands_of_contacts_are_closed_and_recorded_in_as_many_statements_as_a_few(
    session: Session, org: CreatedOrg
) -> None:
    few_id, few = _closed_with_statements(session, org, 3)
    many_id, many = _closed_with_statements(session, org, 4000)

    assert many == few
    assert campaign_decisions(session, campaign_id=many_id) == {("skipped", WINDOW_CLOSED): 4000}
    assert campaign_decisions(session, campaign_id=few_id) == {("skipped", WINDOW_CLOSED): 3}
    assert campaign_drift(session, campaign_id=many_id) == {}


def test_a_contact_waiting_for_its_retry_is_closed_and_its_wait_ends(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = make_campaign(
        session,
        org=org,
        customers=2,
        retryPlan={"maxAttempts": 2, "retryOn": ["customer-busy"], "delaySeconds": 60},
    )
    retried, never = contacts_of(session, campaign_id=campaign_id)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=clock.now, batch_limit=1)
    begin_dial(session, call_id=call_id, settings=get_settings())
    record_provider_call(session, call_id=call_id, provider_call={"id": "p-busy"})
    end_call(session, call_id=call_id, reason="customer-busy")
    never.deferral = "capacity"
    session.flush()

    close_pending_contacts(session, campaign_id=campaign_id, reason=WINDOW_CLOSED)

    assert kinds_of(session, contact_id=retried.id) == [
        ("claimed", None),
        ("dialed", None),
        ("deferred", "retry"),
        ("closed", WINDOW_CLOSED),
    ]
    assert kinds_of(session, contact_id=never.id) == [("skipped", WINDOW_CLOSED)]
    after = contacts_of(session, campaign_id=campaign_id)
    assert [(c.status, c.deferral) for c in after] == [
        (ContactStatus.FAILED, None),
        (ContactStatus.SKIPPED, None),
    ]
