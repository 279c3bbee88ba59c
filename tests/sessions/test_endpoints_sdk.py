"""Vapi's Python SDK against ``/session``: opened, changed and deleted at the provider first."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.orm import Session
from vapi import CreateCustomerDto, Vapi
from vapi.core.api_error import ApiError
from vapi.types import Session as SessionObject

from orchestrator.campaigns.counters import counter_drift
from orchestrator.clock import ManualClock, utcnow
from orchestrator.models import CampaignStatus, Chat, ChatSession, ContactStatus, TextStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.reasons import TEXT_WITHDRAWN_BY_USER
from tests.factories import campaign_of, contacts_of, customer_numbers, make_org
from tests.factories.texts import queued_text, sms_campaign_texts
from tests.support.chats_provider import ChatsProvider
from tests.support.sdk import checked

pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")

NUMBERS = customer_numbers(2, start=60)


def test_a_session_is_created_listed_read_updated_and_deleted(
    vapi: Vapi,
    answers: list[httpx.Response],
    org: CreatedOrg,
    chats_provider: ChatsProvider,
    session: Session,
) -> None:
    created = vapi.sessions.create(
        name="Reminders",
        assistant_id="assistant-1",
        phone_number_id="phone-1",
        customer=CreateCustomerDto(number=NUMBERS[0], name="Ada"),
        expiration_seconds=3600,
    )
    checked(created, answers[-1].json())
    assert answers[-1].status_code == 201
    assert (created.org_id, created.status, created.name) == (
        str(org.org_id),
        "active",
        "Reminders",
    )
    row = session.get(ChatSession, uuid.UUID(created.id))
    assert row is not None and row.provider_session_id == "psession-1"
    # Its messages come to our webhook; the answer shows the user's overrides only.
    (opened,) = [body for method, path, body in chats_provider.received if path == "/session"]
    assert opened["assistantOverrides"]["server"]["url"].endswith("/webhooks/vapi")
    assert created.assistant_overrides is None

    vapi.sessions.create(assistant_id="assistant-2", customer=CreateCustomerDto(number=NUMBERS[1]))
    page = vapi.sessions.list(customer_number_any=f"{NUMBERS[0]},+15550000000")
    checked(page, answers[-1].json())
    assert [found.id for found in page.results] == [created.id]
    assert vapi.sessions.list(phone_number_id_any=["phone-1"]).metadata.total_items == 1
    assert vapi.sessions.list(assistant_id_any="assistant-1,assistant-2").metadata.total_items == 2
    assert checked(vapi.sessions.get(created.id), answers[-1].json()) == created

    updated = vapi.sessions.update(created.id, name="Renamed", status="completed")
    checked(updated, answers[-1].json())
    assert (updated.name, updated.status) == ("Renamed", "completed")
    assert chats_provider.sessions["psession-1"]["status"] == "completed"

    deleted = vapi.sessions.delete(created.id)
    assert checked(deleted, answers[-1].json()).id == created.id
    assert "psession-1" not in chats_provider.sessions
    with pytest.raises(ApiError) as raised:
        vapi.sessions.get(created.id)
    assert raised.value.status_code == 404


def test_a_silent_session_past_its_expiration_reads_completed(
    vapi: Vapi, org: CreatedOrg, session: Session
) -> None:
    text = queued_text(session, org=org)
    opened = session.get(ChatSession, text.session_id)
    assert opened is not None
    assert vapi.sessions.get(str(opened.id)).status == "active"
    opened.expiration_seconds = 60
    opened.last_activity_at = utcnow() - timedelta(seconds=61)
    session.flush()

    assert vapi.sessions.get(str(opened.id)).status == "completed"
    with pytest.raises(ApiError) as raised:
        vapi.chats.create(input="hi", session_id=str(opened.id))
    assert raised.value.body["message"] == [
        f"sessionId {opened.id} is completed: only an active session continues"
    ]


def test_deleting_a_session_withdraws_its_texts_not_yet_sent(
    vapi: Vapi, org: CreatedOrg, session: Session
) -> None:
    text = queued_text(session, org=org)

    vapi.sessions.delete(str(text.session_id))

    session.expire_all()
    row = session.get(Chat, text.id)
    assert row is not None and row.delivery_status == TextStatus.FAILED
    assert row.session_id is None


def test_deleting_the_session_of_a_campaigns_queued_text_skips_its_contact(
    vapi: Vapi, org: CreatedOrg, session: Session, clock: ManualClock
) -> None:
    campaign_id, [text] = sms_campaign_texts(session, org=org, customers=1, now=clock.now)

    vapi.sessions.delete(str(text.session_id))

    [contact] = contacts_of(session, campaign_id=campaign_id)
    assert (contact.status, contact.status_reason) == (
        ContactStatus.SKIPPED,
        TEXT_WITHDRAWN_BY_USER,
    )
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert counter_drift(session, campaign=campaign) == {}


def test_a_session_whose_text_is_being_sent_is_not_deleted(
    vapi: Vapi, org: CreatedOrg, session: Session
) -> None:
    first = queued_text(session, org=org)
    opened = session.get(ChatSession, first.session_id)
    later = queued_text(session, org=org, in_session=opened)
    first.delivery_status = TextStatus.SENDING
    session.flush()

    with pytest.raises(ApiError) as raised:
        vapi.sessions.delete(str(first.session_id))

    assert raised.value.status_code == 400
    assert raised.value.body["message"] == [
        "a text of the session is being sent: the session can be deleted once the provider "
        "has answered for it"
    ]
    session.expire_all()
    assert session.get(ChatSession, first.session_id) is not None
    kept = session.get(Chat, later.id)
    assert kept is not None and kept.delivery_status == TextStatus.QUEUED

    first.delivery_status = TextStatus.SENT
    session.flush()
    assert vapi.sessions.delete(str(first.session_id)).id == str(first.session_id)


def test_bad_changes_and_other_orgs_sessions_are_refused(
    vapi: Vapi, session: Session, chats_provider: ChatsProvider
) -> None:
    created = vapi.sessions.create(assistant_id="assistant-1")
    with pytest.raises(ApiError) as raised:
        vapi.sessions.update(created.id, name="x" * 41, expiration_seconds=30)
    assert raised.value.status_code == 400
    assert raised.value.body["message"] == [
        "name must be shorter than or equal to 40 characters",
        "expirationSeconds must not be less than 60",
    ]
    foreign = queued_text(session, org=make_org(session, name="other"))
    for call in (vapi.sessions.get, vapi.sessions.delete):
        with pytest.raises(ApiError) as raised:
            call(str(foreign.session_id))
        assert raised.value.status_code == 404
    chats_provider.failure = (500, {"message": "down"})
    with pytest.raises(ApiError) as raised:
        vapi.sessions.create(assistant_id="assistant-1")
    assert raised.value.status_code == 502
    assert vapi.sessions.list().metadata.total_items == 1
    assert isinstance(created, SessionObject)
