"""An opt-out heard in a call puts its number on the org's suppression list, in the
transaction that applies the end-of-call report: before the webhook's 200 when applied
inline, and as soon as the applier commits when applied by the worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.calls.service import record_provider_call
from orchestrator.clock import ManualClock, utcnow
from orchestrator.config import get_settings
from orchestrator.flows.apply_webhooks import apply_stored_webhooks
from orchestrator.models import Call, ContactStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.suppression.repository import suppressed_numbers
from orchestrator.webhooks.messages import new_event
from orchestrator.webhooks.storing import store_events
from tests.factories import (
    contacts_of,
    customer_numbers,
    direct_call,
    dispatch_campaign,
    make_campaign,
    make_org,
    report,
    suppress,
    suppression_entries,
    unit_of,
)

pytestmark = pytest.mark.usefixtures("no_other_webhook_events")

SAID_STOP = {"summary": "Asked not to be called.", "structuredData": {"optOut": True}}


def _placed(session: Session, *, org: CreatedOrg, **campaign: Any) -> Call:
    campaign_id = make_campaign(session, org=org, customers=1, **campaign)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=1)
    call = record_provider_call(session, call_id=call_id, provider_call={"id": f"p-{call_id}"})
    assert call is not None
    return call


def _post(api: TestClient, payload: dict[str, Any]) -> None:
    settings = get_settings()
    headers = {settings.webhook_secret_header: settings.webhook_secret}
    assert api.post("/webhooks/vapi", json=payload, headers=headers).status_code == 200


def test_inline_the_number_is_listed_before_the_webhook_is_answered(
    api: TestClient, session: Session
) -> None:
    org = make_org(session)
    call = _placed(session, org=org, optOutPlan={"structuredDataKey": "optOut"})
    _post(api, report(call, "customer-ended-call", analysis=SAID_STOP))
    entry = suppression_entries(session, org_id=org.org_id)[call.customer["number"]]
    assert (entry.reason, entry.source, entry.expires_at) == ("opt-out", str(call.id), None)


def test_a_report_without_the_opt_out_lists_nothing(api: TestClient, session: Session) -> None:
    org = make_org(session, policy={"optOutPlan": {"endedReasons": ["customer-busy"]}})
    call = _placed(session, org=org, optOutPlan={"structuredDataKey": "optOut"})
    _post(api, report(call, "customer-busy", analysis={"structuredData": {"optOut": False}}))
    assert suppression_entries(session, org_id=org.org_id) == {}, "the campaign's plan wins"


def test_by_the_worker_the_number_is_listed_when_the_apply_commits_before_a_retry(
    session: Session,
) -> None:
    org = make_org(session)
    retry = {"maxAttempts": 3, "retryOn": ["customer-busy"], "delaySeconds": 0}
    call = _placed(
        session, org=org, retryPlan=retry, optOutPlan={"endedReasons": ["customer-busy"]}
    )
    store_events(session, [new_event(report(call, "customer-busy"))])
    assert suppression_entries(session, org_id=org.org_id) == {}

    apply_stored_webhooks(enqueue_dispatch=lambda _: None, unit_of_work=unit_of(session))

    (contact,) = contacts_of(session, campaign_id=call.campaign_id)  # type: ignore[arg-type]
    assert contact.status == ContactStatus.PENDING, "the retry plan calls it again"
    number = call.customer["number"]
    assert suppressed_numbers(session, org_id=org.org_id, numbers=[number], now=utcnow()) == {
        number
    }, "so the next claim finds it suppressed"


def _said_stop_in_direct_calls(
    session: Session, *, org: CreatedOrg, numbers: list[str]
) -> list[Call]:
    """A direct call to each number whose report, applied, says the customer opted out."""
    calls = []
    for number in numbers:
        call = session.get(Call, direct_call(session, org=org, customer={"number": number}))
        assert call is not None
        call.provider_call_id = f"p-{call.id}"
        calls.append(call)
    session.flush()
    store_events(
        session, [new_event(report(c, "customer-ended-call", analysis=SAID_STOP)) for c in calls]
    )
    apply_stored_webhooks(enqueue_dispatch=lambda _: None, unit_of_work=unit_of(session))
    return calls


def test_a_direct_call_follows_the_orgs_plan_and_an_opt_out_takes_a_live_entry_over(
    session: Session, clock: ManualClock
) -> None:
    org = make_org(session, policy={"optOutPlan": {"structuredDataKey": "optOut"}})
    listed, expiring, opted, heard = customer_numbers(4)
    suppress(session, org=org, numbers=[listed], reason="dnc", source="registry")
    week = clock.now + timedelta(days=7)
    suppress(session, org=org, numbers=[expiring], reason="other", expires_at=week)
    suppress(session, org=org, numbers=[opted], reason="opt-out", source="earlier call")
    calls = _said_stop_in_direct_calls(session, org=org, numbers=[listed, expiring, opted, heard])

    entries = suppression_entries(session, org_id=org.org_id)
    assert {n: (e.reason, e.source, e.expires_at) for n, e in entries.items()} == {
        listed: ("opt-out", str(calls[0].id), None),
        expiring: ("opt-out", str(calls[1].id), None),
        opted: ("opt-out", "earlier call", None),
        heard: ("opt-out", str(calls[3].id), None),
    }, "an opt-out is the strongest reason, and for good"
    clock.advance(8 * 86400)
    assert suppressed_numbers(session, org_id=org.org_id, numbers=[expiring], now=clock.now) == {
        expiring
    }, "a week later the number is still not dialled"


def test_an_opt_out_is_listed_in_canonical_e164(session: Session) -> None:
    org = make_org(session, policy={"optOutPlan": {"structuredDataKey": "optOut"}})
    written, unassigned = "+4402079460958", "+10000000000"
    _said_stop_in_direct_calls(session, org=org, numbers=[written, unassigned])

    assert sorted(suppression_entries(session, org_id=org.org_id)) == [
        unassigned,
        "+442079460958",
    ], "a number no country assigns is kept as it was dialled"
