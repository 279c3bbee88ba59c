"""``GET /v2/campaign/{id}/contacts/{contactId}`` through the raw client of Vapi's Python SDK
(it has no method for our extension): the contact as the listing shows it, checked against
the SDK's model, its attempts and its decisions in their exact shape; a 404 for anything the
org does not have."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from vapi import Vapi
from vapi.types import CampaignContactWithOutcome

from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.service import record_provider_call
from orchestrator.clock import ManualClock
from orchestrator.config import get_settings
from orchestrator.decisions.recording import Decision, record_decisions
from orchestrator.decisions.service import DECISIONS_SHOWN
from orchestrator.models import Chat, DecisionKind, TextStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.scheduling.service import dispatch_org
from orchestrator.wire import iso
from tests.factories import (
    contacts_of,
    customer_numbers,
    dispatch_campaign,
    end_call,
    make_campaign,
    make_org,
)
from tests.support.sdk import off_enum, strictly, undeclared
from tests.support.vapi_v2 import V2Campaigns

pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")

RETRY = {"maxAttempts": 2, "retryOn": ["customer-did-not-answer"], "delaySeconds": 600}
ATTEMPT_FIELDS = {"id", "attempt", "status", "createdAt"}


@pytest.fixture
def v2(vapi: Vapi, answers: list[httpx.Response]) -> V2Campaigns:
    return V2Campaigns(vapi, answers)


def _history(v2: V2Campaigns, campaign_id: object, contact_id: object) -> dict[str, Any]:
    response = v2.send("GET", f"/v2/campaign/{campaign_id}/contacts/{contact_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"contact", "attempts", "decisions", "decisionsTruncated"}
    contact = strictly(CampaignContactWithOutcome, body["contact"])
    assert off_enum(contact) == {} and undeclared(contact) == {}
    return body


def _dial_and_end(session: Session, call_id: uuid.UUID, *, reason: str) -> None:
    assert begin_dial(session, call_id=call_id, settings=get_settings()) is not None
    record_provider_call(session, call_id=call_id, provider_call={"id": f"p-{call_id}"})
    end_call(session, call_id=call_id, reason=reason)


def test_a_contact_its_attempt_and_every_decision_oldest_first(
    v2: V2Campaigns, session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    numbers = customer_numbers(2)
    campaign_id = make_campaign(
        session, org=org, customers=[{"number": numbers[0], "name": "Ada"}], retryPlan=RETRY
    )
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=clock.now, batch_limit=1)
    clock.advance(1)
    _dial_and_end(session, call_id, reason="customer-did-not-answer")
    clock.advance(30)
    stopped = v2.send("PATCH", f"/v2/campaign/{campaign_id}", json={"status": "cancelled"})
    assert stopped.status_code == 200, stopped.text

    body = _history(v2, campaign_id, contact.id)
    listed = v2.send("GET", f"/v2/campaign/{campaign_id}/contacts").json()["results"]
    assert body["contact"] == listed[0]
    assert body["contact"]["status"] == "contact.failed"
    (attempt,) = body["attempts"]
    assert attempt == {
        "id": str(call_id),
        "attempt": 1,
        "status": "ended",
        "endedReason": "customer-did-not-answer",
        "phoneNumberId": "phone-1",
        "providerCallId": f"p-{call_id}",
        "createdAt": "2026-03-02T15:00:00.000Z",
        "dialedAt": "2026-03-02T15:00:01.000Z",
        "endedAt": "2026-03-02T15:00:01.000Z",
    }
    assert body["decisions"] == [
        {"at": "2026-03-02T15:00:00.000Z", "kind": "claimed", "callId": str(call_id)},
        {"at": "2026-03-02T15:00:01.000Z", "kind": "dialed", "callId": str(call_id)},
        {
            "at": "2026-03-02T15:00:01.000Z",
            "kind": "deferred",
            "reason": "retry",
            "retryAt": "2026-03-02T15:10:01.000Z",
            "callId": str(call_id),
            "detail": {"endedReason": "customer-did-not-answer"},
        },
        {"at": "2026-03-02T15:00:31.000Z", "kind": "closed", "reason": "ended-by-user"},
    ]
    assert body["decisionsTruncated"] == 0


def test_a_contact_never_dialed_has_no_attempts_and_its_skip(
    v2: V2Campaigns, session: Session, org: CreatedOrg
) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    fresh = _history(v2, campaign_id, contact.id)
    assert (fresh["attempts"], fresh["decisions"]) == ([], [])
    assert fresh["contact"]["status"] == "contact.pending"

    v2.send("PATCH", f"/v2/campaign/{campaign_id}", json={"status": "cancelled"})
    skipped = _history(v2, campaign_id, contact.id)
    assert skipped["contact"]["skipReason"] == "ended-by-user"
    assert [(d["kind"], d["reason"]) for d in skipped["decisions"]] == [
        ("skipped", "ended-by-user")
    ]


def test_the_latest_decisions_are_shown_and_the_older_ones_counted(
    v2: V2Campaigns, session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    total = DECISIONS_SHOWN + 3
    record_decisions(
        session,
        (
            Decision(contact.id, DecisionKind.DEFERRED, reason="rate", detail={"n": n})
            for n in range(total)
        ),
    )

    body = _history(v2, campaign_id, contact.id)
    assert body["decisionsTruncated"] == 3
    shown = body["decisions"]
    assert [d["detail"]["n"] for d in shown] == list(range(3, total))
    assert shown[0] == {
        "at": iso(clock.now),
        "kind": "deferred",
        "reason": "rate",
        "detail": {"n": 3},
    }


def test_what_the_org_does_not_have_is_a_404_in_vapis_shape(
    v2: V2Campaigns, session: Session, org: CreatedOrg
) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    other_campaign_id = make_campaign(session, org=org, customers=1)
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    other_org = make_org(session, name="elsewhere")
    theirs = make_campaign(session, org=other_org, customers=1)
    (their_contact,) = contacts_of(session, campaign_id=theirs)

    for campaign, contact_id, message in [
        (theirs, their_contact.id, "Campaign not found"),
        (uuid.uuid4(), contact.id, "Campaign not found"),
        ("not-a-uuid", contact.id, "Campaign not found"),
        (campaign_id, uuid.uuid4(), "Contact not found"),
        (campaign_id, "not-a-uuid", "Contact not found"),
        (other_campaign_id, contact.id, "Contact not found"),
        (campaign_id, their_contact.id, "Contact not found"),
    ]:
        path = f"/v2/campaign/{campaign}/contacts/{contact_id}"
        assert v2.refused("GET", path, status=404) == message, path
    assert _history(v2, campaign_id, contact.id)["contact"]["id"] == str(contact.id)


def test_a_texted_contact_shows_its_last_text_as_the_listing_does(
    v2: V2Campaigns, session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    campaign_id = make_campaign(
        session, org=org, customers=1, channel="sms", smsPlan={"input": "Reply YES."}
    )
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    assert "lastText" not in _history(v2, campaign_id, contact.id)["contact"]
    dispatch_org(session, org_id=org.org_id, now=clock.now, batch_limit=500)
    text = session.scalars(select(Chat).where(Chat.contact_id == contact.id)).one()
    text.delivery_status = TextStatus.FAILED
    text.delivery_reason = "suppressed"
    session.flush()

    body = _history(v2, campaign_id, contact.id)
    assert body["contact"]["lastText"] == {
        "status": "failed",
        "reason": "suppressed",
        "chatId": str(text.id),
        "sessionId": str(text.session_id),
    }
    listed = v2.send("GET", f"/v2/campaign/{campaign_id}/contacts").json()["results"]
    assert body["contact"] == listed[0]
