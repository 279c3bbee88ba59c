"""Direct calls (``POST /call``) in dispatch: the same limits as campaigns, a fair share, waits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.repository import orgs_with_due_direct_calls
from orchestrator.clock import ManualClock
from orchestrator.config import get_settings
from orchestrator.models import Call, CallStatus, Org
from orchestrator.reasons import WINDOW_CLOSED
from orchestrator.scheduling.direct_dispatch import expire_direct_calls
from orchestrator.scheduling.service import dispatch_org
from tests.factories import (
    customer_numbers,
    direct_call,
    end_call,
    fast_caller_number,
    make_campaign,
    make_org,
)

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # the manual clock's start: 10:00 in New York


def status_of(session: Session, call_id: uuid.UUID) -> CallStatus:
    call = session.get(Call, call_id, populate_existing=True)
    assert call is not None
    return call.status


def test_a_due_direct_call_is_claimed(session: Session) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    call_id = direct_call(session, org=org)
    result = dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500)
    assert result.direct_call_ids == [call_id]
    assert result.call_ids == [call_id]
    assert status_of(session, call_id) == CallStatus.CLAIMED


def test_direct_calls_go_oldest_first_and_not_before_their_time(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session, concurrency_limit=1)
    fast_caller_number(session, org=org)
    later = direct_call(session, org=org, not_before=NOW + timedelta(seconds=30))
    first = direct_call(session, org=org)
    clock.advance(1)
    second = direct_call(session, org=org)
    assert dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500).call_ids == [first]
    end_call(session, call_id=first, reason="customer-ended-call")
    late = NOW + timedelta(seconds=30)
    claimed = dispatch_org(session, org_id=org.org_id, now=late, batch_limit=500).call_ids
    # Calls without a time go first, in arrival order, then timed ones once due.
    assert claimed == [second]
    assert status_of(session, later) == CallStatus.SCHEDULED
    end_call(session, call_id=second, reason="customer-ended-call")
    claimed = dispatch_org(session, org_id=org.org_id, now=late, batch_limit=500).call_ids
    assert claimed == [later]


def test_direct_calls_and_campaigns_share_the_org_limit_fairly(session: Session) -> None:
    org = make_org(session, concurrency_limit=4)
    fast_caller_number(session, org=org)
    make_campaign(session, org=org, customers=10, maxConcurrency=10)
    direct = [direct_call(session, org=org) for _ in range(10)]
    result = dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500)
    assert len(result.call_ids) == 4
    assert sum(len(ids) for ids in result.calls_by_campaign.values()) == 2
    assert result.direct_call_ids == direct[:2]
    # Nothing more while the four are in flight, whoever asks.
    assert dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500).call_ids == []


def test_a_numbers_cap_and_rate_count_direct_calls_too(session: Session) -> None:
    org = make_org(session, concurrency_limit=50)
    fast_caller_number(session, org=org, max_concurrency=3)
    make_campaign(session, org=org, customers=5, maxConcurrency=10)
    for _ in range(5):
        direct_call(session, org=org)
    assert len(dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500).call_ids) == 3
    fast_caller_number(session, org=org, caller_number_id="phone-2", calls_per_second=1)
    slow = [direct_call(session, org=org, caller_number_id="phone-2") for _ in range(5)]
    claimed = dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500).call_ids
    # One call per second, claimed two seconds ahead of the rate at most.
    assert claimed == slow[:2]


def test_a_direct_call_past_its_latest_at_is_never_placed(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org, max_concurrency=0)
    call_id = direct_call(session, org=org, not_after=NOW + timedelta(minutes=5))
    assert dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500).call_ids == []
    assert expire_direct_calls(session, now=NOW) == 0
    clock.advance(300)
    assert orgs_with_due_direct_calls(session, now=clock.now) == []
    assert expire_direct_calls(session, now=clock.now) == 1
    call = session.get(Call, call_id, populate_existing=True)
    assert call is not None
    assert call.status == CallStatus.FAILED
    assert call.ended_reason == WINDOW_CLOSED


def test_a_claimed_direct_call_is_not_sent_after_its_latest_at(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    call_id = direct_call(session, org=org, not_after=NOW + timedelta(seconds=2))
    assert dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500).call_ids == [call_id]
    clock.advance(2)
    assert begin_dial(session, call_id=call_id, settings=get_settings()) is None
    assert status_of(session, call_id) == CallStatus.FAILED


def test_the_request_sent_is_the_users_plus_our_correlation(session: Session) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    customer = {"number": "+14155550123", "name": "Ada", "timezone": "America/Los_Angeles"}
    call_id = direct_call(session, org=org, customer=customer)
    dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500)
    request = begin_dial(session, call_id=call_id, settings=get_settings())
    assert request is not None
    body = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert body["assistantId"] == "assistant-direct"
    assert body["phoneNumberId"] == "phone-1"
    assert body["customer"] == {"number": "+14155550123", "name": "Ada"}
    assert body["name"] == "reminder"
    metadata = body["assistantOverrides"]["metadata"]
    assert metadata["k"] == 1
    assert metadata["orchestratorCallId"] == str(call_id)
    assert metadata["orchestratorCampaignId"] is None
    assert body["assistantOverrides"]["server"]["url"].endswith("/webhooks/vapi")
    assert status_of(session, call_id) == CallStatus.DIALING


def test_org_calling_hours_hold_a_direct_call_until_its_customer_wakes(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session)
    fast_caller_number(session, org=org)
    org_row = session.get(Org, org.org_id)
    assert org_row is not None
    org_row.default_calling_hours = True
    # 15:00 UTC is 07:00 in Los Angeles (the default policy opens at 08:00), 10:00 in New York.
    west = direct_call(session, org=org, customer={"number": "+14155550100"})
    east = direct_call(session, org=org, customer={"number": "+12125550100"})
    claimed = dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500).call_ids
    assert claimed == [east]
    deferred = session.get(Call, west, populate_existing=True)
    assert deferred is not None
    assert deferred.status == CallStatus.SCHEDULED
    assert deferred.not_before == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert orgs_with_due_direct_calls(session, now=NOW + timedelta(minutes=59)) == []
    clock.set(datetime(2026, 3, 2, 16, 0, tzinfo=UTC))
    assert dispatch_org(session, org_id=org.org_id, now=clock.now, batch_limit=500).call_ids == [
        west
    ]


def test_orgs_with_due_direct_calls_are_found_for_the_tick(session: Session) -> None:
    org = make_org(session)
    waiting = make_org(session, name="later")
    direct_call(session, org=org, customer={"number": customer_numbers(1)[0]})
    direct_call(session, org=waiting, not_before=NOW + timedelta(hours=1))
    due = orgs_with_due_direct_calls(session, now=NOW)
    assert org.org_id in due
    assert waiting.org_id not in due
    assert waiting.org_id in orgs_with_due_direct_calls(session, now=NOW + timedelta(hours=1))
