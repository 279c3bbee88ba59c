"""Sending a text against a provider over real HTTP, with the real rate limiter: sent exactly
once, in its session's order, under the gate; what a failed ``POST /chat`` means for it; the
dispatcher's lease; and the lookup of a text whose answer was lost."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.calls.placing import PlaceOutcome
from orchestrator.clock import ManualClock, utcnow
from orchestrator.flows import recover_texts as recover_flow
from orchestrator.flows import send_text as send_flow
from orchestrator.flows.dispatch_texts import DISPATCH_LEASE, dispatch_texts
from orchestrator.flows.recover_texts import run_text_recovery
from orchestrator.flows.send_text import send_text
from orchestrator.gate.repository import attempts_since
from orchestrator.models import (
    Campaign,
    CampaignStatus,
    Chat,
    ChatSession,
    Contact,
    ContactStatus,
    Org,
    SessionStatus,
    TextPurpose,
    TextStatus,
)
from orchestrator.orgs.service import CreatedOrg
from orchestrator.pacing.limiter import RateLimiter
from orchestrator.providers import VapiClient
from orchestrator.providers.chats import ProviderChats
from orchestrator.reasons import CAMPAIGN_STOPPED, SUPPRESSED, WINDOW_CLOSED
from orchestrator.texts.sending import NO_CUSTOMER_NUMBER
from tests.factories import make_campaign, unit_of
from tests.factories.gate import record_attempt
from tests.factories.suppression import suppress
from tests.factories.texts import queued_text
from tests.support.chat_server import (
    LOST_500,
    MADE_THEN_500,
    RATE_LIMITED,
    REFUSED,
    ChatServer,
    running_chat_server,
)

NUMBER = "+14155550100"


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatServer]:
    with (
        running_chat_server() as server,
        VapiClient(base_url=server.url, api_key="text-test", timeout=5) as client,
    ):
        chats = ProviderChats(client)
        monkeypatch.setattr(send_flow, "provider_chats", lambda: chats)
        monkeypatch.setattr(recover_flow, "provider_chats", lambda: chats)
        yield server


@pytest.fixture(autouse=True)
def text_limiter(limiter: RateLimiter, monkeypatch: pytest.MonkeyPatch) -> RateLimiter:
    monkeypatch.setattr(send_flow, "pacing_limiter", lambda: limiter)
    return limiter


def _send(session: Session, chat: Chat, *, lease_until: datetime | None = None) -> PlaceOutcome:
    """As the task does: a text that holds its slot comes back for it when it is due."""
    session.commit()
    result = send_text(chat.id, lease_until=lease_until, unit_of_work=unit_of(session))
    while result.outcome == PlaceOutcome.WAITING and result.lease_until is not None:
        time.sleep(result.retry_after_seconds)
        result = send_text(
            chat.id,
            lease_until=result.lease_until,
            reservation=result.reservation,
            unit_of_work=unit_of(session),
        )
    session.refresh(chat)
    return result.outcome


def test_a_text_is_sent_once_and_opens_its_session(
    session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    chat = queued_text(session, org=org, number=NUMBER, assistant_id="asst-1")
    assert _send(session, chat) == PlaceOutcome.PLACED
    assert _send(session, chat) == PlaceOutcome.NOT_MINE  # a redelivered task
    (body,) = provider.creates
    assert body["transport"] == {
        "type": "twilio.sms",
        "phoneNumberId": "sms-caller",
        "customer": {"number": NUMBER},
        "useLLMGeneratedMessageForOutbound": True,
    }
    assert body["assistantId"] == "asst-1"
    assert body["assistantOverrides"]["metadata"] == {"orchestratorChatId": str(chat.id)}
    # The customer's replies in the session it opens come to our webhook.
    assert body["assistantOverrides"]["server"]["url"].endswith("/webhooks/vapi")
    (made,) = provider.chats
    assert (chat.delivery_status, chat.provider_chat_id) == (TextStatus.SENT, made["id"])
    assert chat.sent_at is not None and chat.output == made["output"]
    conversation = session.get_one(ChatSession, chat.session_id)
    assert conversation.provider_session_id == made["sessionId"]
    sms = attempts_since(
        session,
        org_id=org.org_id,
        numbers=[NUMBER],
        since=utcnow() - timedelta(hours=1),
        channels=["sms"],
    )
    assert [row.channel for row in sms] == ["sms"]


def test_a_later_text_names_only_its_session_and_waits_for_the_earlier_one(
    session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    first = queued_text(session, org=org, number=NUMBER)
    conversation = session.get_one(ChatSession, first.session_id)
    later = queued_text(session, org=org, text="And bring your card.", in_session=conversation)
    assert _send(session, later) == PlaceOutcome.NOT_MINE
    assert later.delivery_status == TextStatus.QUEUED and later.due_at is not None
    assert later.due_at > utcnow() and provider.creates == []
    assert _send(session, first) == PlaceOutcome.PLACED
    later.due_at = utcnow()
    assert _send(session, later) == PlaceOutcome.PLACED
    body = provider.creates[-1]
    assert body["sessionId"] == provider.chats[0]["sessionId"]
    assert body["transport"] == {"type": "twilio.sms", "useLLMGeneratedMessageForOutbound": True}
    assert "customer" not in body and "phoneNumberId" not in body


def test_a_429_puts_the_text_back_in_the_queue_and_counts_nothing(
    session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    provider.next_answers = [RATE_LIMITED]
    chat = queued_text(session, org=org, number=NUMBER)
    assert _send(session, chat) == PlaceOutcome.WAITING
    assert chat.delivery_status == TextStatus.QUEUED
    assert chat.due_at is not None and chat.due_at > utcnow()
    since = utcnow() - timedelta(hours=1)
    assert (
        attempts_since(session, org_id=org.org_id, numbers=[NUMBER], since=since, channels=["sms"])
        == []
    )


def test_a_refusal_fails_the_text_with_the_providers_message(
    session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    provider.next_answers = [REFUSED]
    chat = queued_text(session, org=org, number=NUMBER)
    assert _send(session, chat) == PlaceOutcome.FAILED
    assert chat.delivery_status == TextStatus.FAILED
    assert chat.delivery_reason == "phoneNumberId is not SMS enabled"


@pytest.mark.parametrize(("answer", "made"), [(MADE_THEN_500, True), (LOST_500, False)])
def test_a_lost_answer_is_looked_up_never_sent_blindly(
    session: Session, org: CreatedOrg, provider: ChatServer, answer: str, made: bool
) -> None:
    provider.next_answers = [answer]
    chat = queued_text(session, org=org, number=NUMBER)
    assert _send(session, chat) == PlaceOutcome.UNKNOWN
    assert chat.delivery_status == TextStatus.SENDING
    run_text_recovery(now=utcnow(), unit_of_work=unit_of(session))
    session.refresh(chat)
    assert chat.delivery_status == TextStatus.SENDING  # its create might still be under way
    later = utcnow() + timedelta(minutes=5)
    sweep = run_text_recovery(now=later, unit_of_work=unit_of(session))
    session.refresh(chat)
    assert len(provider.creates) == 1
    if made:
        assert (sweep.found >= 1, chat.delivery_status) == (True, TextStatus.SENT)
        assert chat.provider_chat_id == provider.chats[0]["id"]
        conversation = session.get_one(ChatSession, chat.session_id)
        assert conversation.provider_session_id == provider.chats[0]["sessionId"]
    else:
        assert (sweep.requeued >= 1, chat.delivery_status) == (True, TextStatus.QUEUED)
        assert _send(session, chat) == PlaceOutcome.PLACED
        assert len(provider.creates) == 2


def test_a_suppressed_number_is_never_texted(
    session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    suppress(session, org=org, numbers=[NUMBER])
    chat = queued_text(session, org=org, number=NUMBER)
    assert _send(session, chat) == PlaceOutcome.HELD_BACK
    assert (chat.delivery_status, chat.delivery_reason) == (TextStatus.FAILED, SUPPRESSED)
    assert provider.creates == []


def test_texts_obey_the_orgs_calling_hours(
    session: Session, org: CreatedOrg, provider: ChatServer, clock: ManualClock
) -> None:
    session.get_one(Org, org.org_id).policy = {"callingHoursProfile": "us-tcpa"}
    chat = queued_text(session, org=org, number=NUMBER)  # 07:00 in California
    assert _send(session, chat) == PlaceOutcome.HELD_BACK
    assert chat.delivery_status == TextStatus.QUEUED
    assert chat.due_at == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert provider.creates == []


def test_a_cap_that_counts_texts_holds_a_text_back_until_its_allowance(
    session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    cap = {"maxAttempts": 1, "periodSeconds": 86400, "channels": ["sms"]}
    session.get_one(Org, org.org_id).policy = {"frequencyCaps": [cap]}
    sent = utcnow() - timedelta(hours=1)
    record_attempt(session, org=org, number=NUMBER, at=sent, channel="sms")
    chat = queued_text(session, org=org, number=NUMBER)
    assert _send(session, chat) == PlaceOutcome.HELD_BACK
    assert chat.delivery_status == TextStatus.QUEUED
    assert chat.due_at == sent + timedelta(days=1)


def test_a_cap_on_calls_only_does_not_hold_a_text_back(
    session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    cap = {"maxAttempts": 1, "periodSeconds": 86400}
    session.get_one(Org, org.org_id).policy = {"frequencyCaps": [cap]}
    record_attempt(session, org=org, number=NUMBER, at=utcnow() - timedelta(hours=1))
    chat = queued_text(session, org=org, number=NUMBER)
    assert _send(session, chat) == PlaceOutcome.PLACED


def test_the_dispatcher_leases_due_texts_and_only_the_lease_sends(
    session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    chat = queued_text(session, org=org, number=NUMBER)
    chat.due_at = utcnow() - timedelta(seconds=1)
    session.commit()
    handed: list[tuple[uuid.UUID, datetime]] = []
    now = utcnow()
    claimed = dispatch_texts(enqueue=handed.extend, now=now, unit_of_work=unit_of(session))
    assert chat.id in claimed
    lease = dict(handed)[chat.id]
    assert lease == now + DISPATCH_LEASE
    again = dispatch_texts(enqueue=handed.extend, now=now, unit_of_work=unit_of(session))
    assert chat.id not in again
    assert _send(session, chat) == PlaceOutcome.NOT_MINE  # the API's task comes late
    assert _send(session, chat, lease_until=lease + timedelta(seconds=1)) == PlaceOutcome.NOT_MINE
    assert _send(session, chat, lease_until=lease) == PlaceOutcome.PLACED
    assert len(provider.creates) == 1


def test_texts_of_a_number_are_spaced_by_its_messages_per_second(
    session: Session, org: CreatedOrg, text_limiter: RateLimiter
) -> None:
    from orchestrator.phone_numbers.repository import upsert_pacing

    upsert_pacing(
        session,
        org_id=org.org_id,
        provider_id="sms-caller",
        calls_per_second=1,
        max_concurrency=None,
        messages_per_second=5,
    )
    chats = [queued_text(session, org=org, number=f"+1415555010{i}") for i in range(4)]
    session.commit()
    slots = []
    for chat in chats:
        held = send_flow.hold_text_slot(
            chat.id,
            limiter=text_limiter,
            lease_until=None,
            reservation=None,
            unit_of_work=unit_of(session),
        )
        reservation = held.reservation
        assert reservation is not None
        slots.append(reservation.slot_us)
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert all(199_000 <= gap <= 210_000 for gap in gaps), gaps
    key = f"sms:{org.org_id}:sms-caller"
    assert text_limiter.client.exists(text_limiter.redis_key(key))


def _hold(session: Session, chat: Chat, limiter: RateLimiter) -> send_flow._Held:
    """A task's first steps, up to its slot (waited for)."""
    held = send_flow.hold_text_slot(
        chat.id, limiter=limiter, lease_until=None, reservation=None, unit_of_work=unit_of(session)
    )
    while isinstance(held, send_flow.TextResult):
        assert held.outcome == PlaceOutcome.WAITING and held.reservation is not None, held
        time.sleep(held.retry_after_seconds)
        held = send_flow.hold_text_slot(
            chat.id,
            limiter=limiter,
            lease_until=held.lease_until,
            reservation=held.reservation,
            unit_of_work=unit_of(session),
        )
    return held


def test_a_task_that_stalled_while_its_text_was_taken_again_does_not_send_it(
    session: Session, org: CreatedOrg, provider: ChatServer, text_limiter: RateLimiter
) -> None:
    chat = queued_text(session, org=org, number=NUMBER)
    session.commit()
    unit = unit_of(session)
    stalled = _hold(session, chat, text_limiter)
    body = send_flow._begin(chat.id, stalled.lease_until, unit)
    assert isinstance(body, dict)
    # Stuck before the gate past the staleness: the sweep queues it again, a new task takes it.
    sweep = run_text_recovery(now=utcnow() + timedelta(minutes=5), unit_of_work=unit)
    assert sweep.requeued >= 1
    taker = _hold(session, chat, text_limiter)
    again = send_flow._begin(chat.id, taker.lease_until, unit)
    assert isinstance(again, dict)
    late = send_flow._send(chat.id, stalled, body, text_limiter, unit)
    assert late.outcome == PlaceOutcome.NOT_MINE and provider.creates == []
    assert send_flow._send(chat.id, taker, again, text_limiter, unit).outcome == PlaceOutcome.PLACED
    assert len(provider.creates) == 1


def test_a_later_text_waits_until_the_earlier_one_is_due(
    session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    first = queued_text(session, org=org, number=NUMBER)
    first.due_at = utcnow() + timedelta(hours=3)  # held back by quiet hours, say
    conversation = session.get_one(ChatSession, first.session_id)
    later = queued_text(session, org=org, text="And bring your card.", in_session=conversation)
    assert _send(session, later) == PlaceOutcome.NOT_MINE
    assert later.due_at == first.due_at and provider.creates == []


def test_a_text_sent_in_a_completed_session_makes_it_active_again(
    session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    chat = queued_text(session, org=org, number=NUMBER)
    conversation = session.get_one(ChatSession, chat.session_id)
    conversation.status = SessionStatus.COMPLETED  # idle past its expiration meanwhile
    assert _send(session, chat) == PlaceOutcome.PLACED
    session.refresh(conversation)
    assert conversation.status == SessionStatus.ACTIVE


def test_a_text_without_a_customer_number_ends_unsent(
    session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    chat = queued_text(session, org=org, number=" ")
    assert _send(session, chat) == PlaceOutcome.HELD_BACK
    assert (chat.delivery_status, chat.delivery_reason) == (TextStatus.FAILED, NO_CUSTOMER_NUMBER)
    assert provider.creates == []


def _campaign_text(
    session: Session, org: CreatedOrg, *, purpose: TextPurpose = TextPurpose.CAMPAIGN
) -> tuple[Chat, Campaign, Contact]:
    campaign_id = make_campaign(session, org=org, customers=1)
    contact = session.scalars(select(Contact).where(Contact.campaign_id == campaign_id)).one()
    chat = queued_text(
        session,
        org=org,
        number=NUMBER,
        purpose=purpose,
        campaign_id=campaign_id,
        contact_id=contact.id,
    )
    return chat, session.get_one(Campaign, campaign_id), contact


def test_a_paused_campaigns_text_waits_and_keeps_its_contact(
    session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    chat, campaign, contact = _campaign_text(session, org)
    campaign.status = CampaignStatus.PAUSED
    assert _send(session, chat) == PlaceOutcome.HELD_BACK
    assert chat.delivery_status == TextStatus.QUEUED
    assert chat.due_at is not None and chat.due_at > utcnow() + timedelta(seconds=30)
    session.refresh(contact)
    assert contact.status == ContactStatus.PENDING and provider.creates == []
    campaign.status = CampaignStatus.IN_PROGRESS
    chat.due_at = utcnow()
    assert _send(session, chat) == PlaceOutcome.PLACED


@pytest.mark.parametrize(
    ("status", "window_passed", "reason"),
    [
        (CampaignStatus.ENDED, False, CAMPAIGN_STOPPED),
        (CampaignStatus.CANCELLED, False, CAMPAIGN_STOPPED),
        (CampaignStatus.ARCHIVED, False, CAMPAIGN_STOPPED),
        (CampaignStatus.IN_PROGRESS, True, WINDOW_CLOSED),
        (CampaignStatus.PAUSED, True, WINDOW_CLOSED),
    ],
)
def test_a_text_of_a_campaign_that_is_over_is_withdrawn_and_settles_its_contact(
    session: Session,
    org: CreatedOrg,
    provider: ChatServer,
    status: CampaignStatus,
    window_passed: bool,
    reason: str,
) -> None:
    chat, campaign, contact = _campaign_text(session, org)
    campaign.status = status
    if window_passed:
        campaign.latest_at = utcnow() - timedelta(seconds=1)
    assert _send(session, chat) == PlaceOutcome.HELD_BACK
    assert (chat.delivery_status, chat.delivery_reason) == (TextStatus.FAILED, reason)
    session.refresh(contact)
    assert contact.status in (ContactStatus.FAILED, ContactStatus.SKIPPED)
    assert contact.status_reason == reason and provider.creates == []


def test_a_follow_up_text_goes_out_after_its_campaign_ended(
    session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    chat, campaign, _ = _campaign_text(session, org, purpose=TextPurpose.FOLLOW_UP)
    campaign.status, campaign.latest_at = CampaignStatus.ENDED, utcnow() - timedelta(seconds=1)
    assert _send(session, chat) == PlaceOutcome.PLACED
