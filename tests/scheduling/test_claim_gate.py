"""The compliance gate at claim time: suppressed contacts are skipped, capped ones wait for
their allowance (or are skipped past their window), in set-based queries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import counter_drift
from orchestrator.clock import ManualClock
from orchestrator.models import Call, CallStatus, ContactStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.reasons import FREQUENCY_CAP, SUPPRESSED
from tests.factories import (
    campaign_of,
    contacts_of,
    customer_numbers,
    decisions_of,
    direct_call,
    end_call,
    event_types,
    fast_caller_number,
    kinds_of,
    make_campaign,
    make_org,
    record_attempt,
    server_campaign,
    set_caps,
    suppress_rows,
)
from tests.factories import dispatch as dispatch_now

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # the manual clock's start
DAY = 86_400
HOUR = timedelta(hours=1)


def dispatch(session: Session, org: CreatedOrg, now: datetime = NOW) -> list[uuid.UUID]:
    return dispatch_now(session, org=org, now=now)


def _org(session: Session) -> CreatedOrg:
    org = make_org(session, name=f"gate-{uuid.uuid4()}", concurrency_limit=50)
    fast_caller_number(session, org=org)
    return org


def _exact(session: Session, campaign_id: uuid.UUID) -> None:
    assert counter_drift(session, campaign=campaign_of(session, campaign_id=campaign_id)) == {}


def _claimed_numbers(session: Session, call_ids: list[uuid.UUID]) -> list[str]:
    return sorted(session.get_one(Call, call_id).customer["number"] for call_id in call_ids)


def test_suppressed_contacts_are_skipped_at_the_claim_and_the_others_claimed(
    session: Session, api: TestClient, auth: dict[str, str], org: CreatedOrg
) -> None:
    fast_caller_number(session, org=org)
    numbers = customer_numbers(4)
    campaign_id = server_campaign(session, org=org, customers=4)
    suppress_rows(session, org=org, numbers=numbers[1:3])
    calls = dispatch(session, org)
    assert _claimed_numbers(session, calls) == [numbers[0], numbers[3]]
    contacts = contacts_of(session, campaign_id=campaign_id)
    assert [(c.status, c.status_reason) for c in contacts[1:3]] == [
        (ContactStatus.SKIPPED, SUPPRESSED)
    ] * 2
    assert event_types(session, campaign_id=campaign_id).count("contact.skipped") == 2
    for skipped in contacts[1:3]:
        assert kinds_of(session, contact_id=skipped.id) == [
            ("suppressed", "claim"),
            ("skipped", SUPPRESSED),
        ]
    _exact(session, campaign_id)
    session.commit()
    listed = api.get(
        f"/v2/campaign/{campaign_id}/contacts",
        params={"status": "contact.skipped"},
        headers=auth,
    ).json()["results"]
    assert {(c["number"], c["skipReason"]) for c in listed} == {
        (numbers[1], "suppressed"),
        (numbers[2], "suppressed"),
    }


def test_an_expired_entry_no_longer_holds_anyone_back(session: Session) -> None:
    org = _org(session)
    suppress_rows(session, org=org, numbers=customer_numbers(1), expires_at=NOW)
    make_campaign(session, org=org, customers=1)
    assert len(dispatch(session, org)) == 1


def test_a_suppressed_contact_waiting_for_a_retry_ends_as_its_last_attempt_did(
    session: Session, clock: ManualClock
) -> None:
    org = _org(session)
    campaign_id = make_campaign(session, org=org, customers=1, retryPlan={"maxAttempts": 3})
    (first,) = dispatch(session, org)
    end_call(session, call_id=first, reason="customer-did-not-answer")
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    assert contact.status == ContactStatus.PENDING
    suppress_rows(session, org=org, numbers=customer_numbers(1))
    assert dispatch(session, org, now=clock.advance(3600)) == []
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    assert (contact.status, contact.status_reason) == (ContactStatus.FAILED, SUPPRESSED)
    assert kinds_of(session, contact_id=contact.id)[-2:] == [
        ("suppressed", "claim"),
        ("closed", SUPPRESSED),
    ]
    _exact(session, campaign_id)


def test_a_capped_contact_waits_until_its_allowance_frees_then_is_claimed(
    session: Session,
) -> None:
    org = _org(session)
    set_caps(session, org=org, caps=[(2, DAY)])
    number = customer_numbers(1)[0]
    record_attempt(session, org=org, number=number, at=NOW - 5 * HOUR)
    record_attempt(session, org=org, number=number, at=NOW - HOUR)
    campaign_id = make_campaign(session, org=org, customers=2)
    (claimed,) = dispatch(session, org)
    assert _claimed_numbers(session, [claimed]) == [customer_numbers(2)[1]]
    waiting = contacts_of(session, campaign_id=campaign_id)[0]
    frees = NOW + 19 * HOUR
    assert (waiting.status, waiting.not_before, waiting.deferral) == (
        ContactStatus.PENDING,
        frees,
        FREQUENCY_CAP,
    )
    assert dispatch(session, org, now=frees - timedelta(seconds=1)) == []
    assert len(dispatch(session, org, now=frees)) == 1
    waiting = contacts_of(session, campaign_id=campaign_id)[0]
    assert (waiting.status, waiting.deferral) == (ContactStatus.DISPATCHED, None)
    history = decisions_of(session, contact_id=waiting.id)
    assert [(str(d.kind), d.reason, d.retry_at) for d in history] == [
        ("deferred", FREQUENCY_CAP, frees),
        ("claimed", None, None),
    ], "one deferral however many ticks it waited"
    _exact(session, campaign_id)


def test_a_contact_whose_allowance_frees_after_its_window_is_skipped(session: Session) -> None:
    org = _org(session)
    set_caps(session, org=org, caps=[(1, DAY)])
    number = customer_numbers(1)[0]
    record_attempt(session, org=org, number=number, at=NOW - HOUR)
    plan = {"earliestAt": NOW.isoformat(), "latestAt": (NOW + 12 * HOUR).isoformat()}
    campaign_id = server_campaign(session, org=org, customers=1, schedulePlan=plan)
    assert dispatch(session, org) == []
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    assert (contact.status, contact.status_reason) == (ContactStatus.SKIPPED, FREQUENCY_CAP)
    assert campaign_of(session, campaign_id=campaign_id).status == "ended"
    assert event_types(session, campaign_id=campaign_id)[-2:] == [
        "contact.skipped",
        "campaign.ended",
    ]
    _exact(session, campaign_id)


def test_two_campaigns_never_both_claim_a_numbers_last_allowance(session: Session) -> None:
    org = _org(session)
    set_caps(session, org=org, caps=[(1, DAY)])
    campaigns = {make_campaign(session, org=org, customers=1) for _ in range(2)}
    (claimed,) = dispatch(session, org)
    (second,) = campaigns - {session.get_one(Call, claimed).campaign_id}
    (other,) = contacts_of(session, campaign_id=second)
    assert (other.status, other.deferral) == (ContactStatus.PENDING, None)
    # The next dispatch counts the claimed call, not sent yet, as an attempt from now.
    later = NOW + timedelta(seconds=5)
    assert dispatch(session, org, now=later) == []
    (other,) = contacts_of(session, campaign_id=second)
    assert (other.not_before, other.deferral) == (later + timedelta(days=1), FREQUENCY_CAP)
    for campaign_id in campaigns:
        _exact(session, campaign_id)


def _status(session: Session, call_id: uuid.UUID) -> tuple[CallStatus, str | None, Any]:
    call = session.get(Call, call_id, populate_existing=True)
    assert call is not None
    return call.status, call.ended_reason, call.not_before


def test_direct_calls_wait_for_their_allowance_or_end_past_their_latest_at(
    session: Session,
) -> None:
    org = _org(session)
    set_caps(session, org=org, caps=[(1, DAY)])
    number = customer_numbers(1)[0]
    record_attempt(session, org=org, number=number, at=NOW - HOUR)
    customer = {"number": number}
    waits = direct_call(session, org=org, customer=customer)
    too_late = direct_call(session, org=org, customer=customer, not_after=NOW + HOUR)
    suppress_rows(session, org=org, numbers=customer_numbers(1, start=1))
    suppressed = direct_call(session, org=org, customer={"number": customer_numbers(2)[1]})
    assert dispatch(session, org) == []
    assert _status(session, waits) == (CallStatus.SCHEDULED, None, NOW + 23 * HOUR)
    assert _status(session, too_late)[:2] == (CallStatus.FAILED, FREQUENCY_CAP)
    assert _status(session, suppressed)[:2] == (CallStatus.FAILED, SUPPRESSED)
    assert dispatch(session, org, now=NOW + 23 * HOUR) == [waits]


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", count)


def _statements_to_dispatch(session: Session, contacts: int) -> int:
    org = _org(session)
    set_caps(session, org=org, caps=[(1, DAY)])
    numbers = customer_numbers(contacts, start=500)
    for number in numbers[::2]:
        record_attempt(session, org=org, number=number, at=NOW - HOUR)
    suppress_rows(session, org=org, numbers=numbers[1::4])
    make_campaign(session, org=org, customers=[{"number": n} for n in numbers], maxConcurrency=100)
    with _statements(session) as seen:
        claimed = dispatch(session, org)
    assert len(claimed) == contacts // 4
    return len(seen)


def test_the_gate_reads_and_writes_a_batch_in_the_same_statements_whatever_its_size(
    session: Session,
) -> None:
    assert _statements_to_dispatch(session, 8) == _statements_to_dispatch(session, 40)
