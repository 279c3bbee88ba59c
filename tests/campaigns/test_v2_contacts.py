"""``GET /v2/campaign/{id}/contacts`` through Vapi's Python SDK: by status, in dial order or
status order, page by page, each contact with its last attempt; every page checked against the
SDK's models (``V2Campaigns``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from vapi import Vapi
from vapi.types import CampaignContactPaginatedResponse, CampaignContactWithOutcome

from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.service import record_provider_call
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.models import Contact
from orchestrator.orgs.service import CreatedOrg
from orchestrator.reasons import PREDIAL_NOT_ELIGIBLE
from orchestrator.scheduling.window import close_window
from tests.factories import (
    contacts_of,
    customer_numbers,
    dispatch_campaign,
    end_call,
    force_campaign,
    make_campaign,
)
from tests.support.vapi_v2 import V2Campaigns

pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")


def customers(count: int) -> list[dict[str, Any]]:
    return [{"number": n, "name": f"C{i}"} for i, n in enumerate(customer_numbers(count))]


def _end(session: Session, call_id: uuid.UUID, reason: str) -> None:
    begin_dial(session, call_id=call_id, settings=get_settings())
    record_provider_call(session, call_id=call_id, provider_call={"id": f"p-{call_id}"})
    end_call(session, call_id=call_id, reason=reason)


def test_every_contact_in_dial_order_page_by_page(
    v2: V2Campaigns, session: Session, org: CreatedOrg
) -> None:
    campaign_id = str(make_campaign(session, org=org, customers=customers(60)))
    first = v2.contacts(campaign_id)
    assert isinstance(first, CampaignContactPaginatedResponse)
    assert all(type(c) is CampaignContactWithOutcome for c in first.results)
    assert [c.number for c in first.results] == customer_numbers(60)[:50]
    assert [c.name for c in first.results[:2]] == ["C0", "C1"]
    assert {c.status for c in first.results} == {"contact.pending"}
    assert all(c.call_id is None and c.dispatched_at is None for c in first.results)
    assert all(c.model_extra == {} for c in first.results)
    meta = first.metadata
    assert (meta.items_per_page, meta.total_items, meta.current_page) == (50, 60, 1)
    assert (meta.total_pages, meta.has_next_page) == (2, True)
    assert meta.model_extra == {}

    second = v2.contacts(campaign_id, page=2)
    assert [c.number for c in second.results] == customer_numbers(60)[50:]
    assert second.metadata.has_next_page is False
    small = v2.contacts(campaign_id, limit=7, page=3)
    assert [c.number for c in small.results] == customer_numbers(60)[14:21]
    assert v2.contacts(campaign_id, page=4, limit=20).results == []
    ids = [c.id for c in contacts_of(session, campaign_id=uuid.UUID(campaign_id))]
    assert [c.id for c in v2.contacts(campaign_id, limit=1000).results] == [str(i) for i in ids]


def _campaign_with_outcomes(session: Session, org: CreatedOrg) -> tuple[str, list[uuid.UUID]]:
    """Contacts 0-5 ended: completed, failed, completed (voicemail), in flight, then 6-9
    skipped when the user stops the campaign; contact ids in dial order."""
    campaign_id = make_campaign(session, org=org, customers=customers(10))
    calls = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=4)
    _end(session, calls[0], "customer-ended-call")
    _end(session, calls[1], "customer-did-not-answer")
    _end(session, calls[2], "voicemail")
    begin_dial(session, call_id=calls[3], settings=get_settings())
    session.flush()
    return str(campaign_id), [c.id for c in contacts_of(session, campaign_id=campaign_id)]


def test_each_contact_shows_its_last_attempt(
    v2: V2Campaigns, vapi: Vapi, session: Session, org: CreatedOrg
) -> None:
    campaign_id, ids = _campaign_with_outcomes(session, org)
    page = v2.contacts(campaign_id, limit=5)
    statuses = [c.status for c in page.results]
    assert statuses == [
        "contact.completed",
        "contact.failed",
        "contact.completed",
        "contact.dispatched",
        "contact.pending",
    ]
    assert [c.ended_reason for c in page.results] == [
        "customer-ended-call",
        "customer-did-not-answer",
        "voicemail",
        None,
        None,
    ]
    assert all(c.call_id and isinstance(c.dispatched_at, datetime) for c in page.results[:4])
    assert page.results[4].call_id is None
    # The callId is the call's id on our API.
    call = vapi.calls.get(str(page.results[0].call_id))
    assert call.ended_reason == "customer-ended-call"
    assert (call.model_extra or {})["orchestrator"]["contactId"] == str(ids[0])


def test_skipped_contacts_say_why(v2: V2Campaigns, session: Session, org: CreatedOrg) -> None:
    stopped, _ = _campaign_with_outcomes(session, org)
    v2.update(stopped, status="cancelled")
    closed = str(make_campaign(session, org=org, customers=customers(2)))
    force_campaign(session, campaign_id=closed, latest_at=utcnow())
    close_window(session, campaign_id=uuid.UUID(closed), now=utcnow())
    vetoed = make_campaign(session, org=org, customers=customers(1))
    session.execute(
        update(Contact)
        .where(Contact.campaign_id == vetoed)
        .values(status="skipped", status_reason=PREDIAL_NOT_ELIGIBLE)
    )

    skipped = v2.contacts(stopped, status="contact.skipped")
    assert len(skipped.results) == 6
    assert {c.status for c in skipped.results} == {"contact.skipped"}
    assert {c.model_extra["skipReason"] for c in skipped.results if c.model_extra} == {
        "ended-by-user"
    }
    closed_page = v2.contacts(closed)
    assert [(c.model_extra or {}).get("skipReason") for c in closed_page.results] == [
        "window-closed"
    ] * 2
    assert (v2.contacts(str(vetoed)).results[0].model_extra or {})["skipReason"] == "not-eligible"
    # Only skipped contacts have one.
    ended = v2.contacts(stopped, status="contact.completed")
    assert all("skipReason" not in (c.model_extra or {}) for c in ended.results)


def test_filter_by_one_or_several_statuses(
    v2: V2Campaigns, session: Session, org: CreatedOrg
) -> None:
    campaign_id, ids = _campaign_with_outcomes(session, org)
    completed = v2.contacts(campaign_id, status="contact.completed")
    assert [c.id for c in completed.results] == [str(ids[0]), str(ids[2])]
    assert completed.metadata.total_items == 2
    repeated = v2.contacts(campaign_id, status=["contact.failed", "contact.dispatched"])
    assert [c.status for c in repeated.results] == ["contact.failed", "contact.dispatched"]
    assert [c.id for c in repeated.results] == [str(ids[1]), str(ids[3])]
    assert repeated.metadata.total_items == 2
    commas = v2.contacts(campaign_id, status="contact.failed,contact.dispatched")
    assert [c.id for c in commas.results] == [c.id for c in repeated.results]
    assert v2.contacts(campaign_id, status="contact.predial-failed").results == []


def test_status_order_is_vapis_lifecycle_then_dial_order(
    v2: V2Campaigns, session: Session, org: CreatedOrg
) -> None:
    campaign_id, ids = _campaign_with_outcomes(session, org)
    expected = [ids[i] for i in (4, 5, 6, 7, 8, 9, 3, 0, 2, 1)]
    whole = v2.contacts(campaign_id, sort_by="status")
    assert [c.id for c in whole.results] == [str(i) for i in expected]
    pages = [v2.contacts(campaign_id, sort_by="status", limit=3, page=p) for p in (1, 2, 3, 4)]
    assert [c.id for page in pages for c in page.results] == [str(i) for i in expected]
    assert [page.metadata.has_next_page for page in pages] == [True, True, True, False]
    # A page across the runs of two statuses, and within a filter.
    filtered = v2.contacts(
        campaign_id,
        sort_by="status",
        status=["contact.failed", "contact.pending", "contact.completed"],
        limit=4,
        page=2,
    )
    assert [c.id for c in filtered.results] == [str(i) for i in (ids[8], ids[9], ids[0], ids[2])]
    assert filtered.metadata.total_items == 9
    by_position = v2.contacts(campaign_id, sort_by="position", limit=3, page=2)
    assert [c.id for c in by_position.results] == [str(i) for i in ids[3:6]]


def test_a_retried_contact_shows_its_latest_attempt(
    v2: V2Campaigns, session: Session, org: CreatedOrg
) -> None:
    retry = {"maxAttempts": 2, "retryOn": ["customer-busy"], "delaySeconds": 0}
    campaign_id = make_campaign(session, org=org, customers=customers(1), retryPlan=retry)
    force_campaign(session, campaign_id=str(campaign_id), status="in-progress")
    (first,) = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=1)
    _end(session, first, "customer-busy")
    waiting = v2.contacts(str(campaign_id)).results[0]
    assert (waiting.status, waiting.call_id, waiting.ended_reason) == (
        "contact.pending",
        str(first),
        "customer-busy",
    )
    (second,) = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=1)
    _end(session, second, "customer-ended-call")
    done = v2.contacts(str(campaign_id)).results[0]
    assert (done.status, done.call_id, done.ended_reason) == (
        "contact.completed",
        str(second),
        "customer-ended-call",
    )


def test_a_sip_customer_is_listed_at_its_sip_uri(
    v2: V2Campaigns, session: Session, org: CreatedOrg
) -> None:
    sip = [{"sipUri": "sip:front-desk@example.com", "name": "Front desk"}]
    campaign_id = make_campaign(session, org=org, customers=sip)
    (contact,) = v2.contacts(str(campaign_id)).results
    assert contact.number == "sip:front-desk@example.com"
    assert (contact.model_extra or {})["sipUri"] == "sip:front-desk@example.com"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 0}, "limit must not be less than 1"),
        ({"limit": 1001}, "limit must not be greater than 1000"),
        ({"limit": "many"}, "limit must be an integer number"),
        ({"page": 0}, "page must not be less than 1"),
        ({"sortBy": "cost"}, "sortBy must be one of the following values: position, status"),
    ],
)
def test_bad_queries_are_400(
    v2: V2Campaigns, session: Session, org: CreatedOrg, params: dict[str, Any], message: str
) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    path = f"v2/campaign/{campaign_id}/contacts"
    assert v2.refused("GET", path, params=params) == [message]


def test_every_bad_parameter_is_listed(v2: V2Campaigns, session: Session, org: CreatedOrg) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    params = {"status": ["contact.pending", "pending"], "limit": 0, "sortBy": "x"}
    messages = v2.refused("GET", f"v2/campaign/{campaign_id}/contacts", params=params)
    assert len(messages) == 3
    assert messages[0].startswith("status.1 must be one of the following values: contact.pending")
