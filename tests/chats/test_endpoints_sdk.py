"""Vapi's Python SDK against ``/chat``: plain chats forwarded to the provider, texts queued.

Every raw answer is also validated strictly against the SDK's model (``checked``).
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from vapi import CreateCustomerDto, Vapi
from vapi.core.api_error import ApiError
from vapi.types import Chat, ChatPaginatedResponse, TwilioSmsChatTransport

from orchestrator.campaigns.counters import counter_drift
from orchestrator.clock import ManualClock
from orchestrator.enqueue import SEND_TEXT
from orchestrator.models import CampaignStatus, ChatSession, ContactStatus, TextStatus
from orchestrator.models import Chat as ChatRow
from orchestrator.orgs.service import CreatedOrg
from orchestrator.reasons import TEXT_WITHDRAWN_BY_USER
from tests.factories import RecordedTasks, campaign_of, contacts_of, customer_numbers, make_org
from tests.factories.suppression import suppress
from tests.factories.texts import queued_text, sms_campaign_texts
from tests.support.chats_provider import ChatsProvider
from tests.support.sdk import checked, extensions, strictly

pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")

NUMBER = customer_numbers(1, start=40)[0]


def checked_chat(parsed: Chat, raw: dict[str, object]) -> Chat:
    """The strict model of a chat's answer, checked; the SDK's own parse takes a user message
    in ``messages`` for a ``SystemMessage`` (its union's first fit), so only the rest of it is
    compared."""
    strict = checked(strictly(Chat, raw), raw)
    assert strict.model_copy(update={"messages": None}) == parsed.model_copy(
        update={"messages": None}
    )
    return strict


def sms(**fields: object) -> TwilioSmsChatTransport:
    return TwilioSmsChatTransport(type="twilio.sms", **fields)


def send_text(vapi: Vapi, answers: list[httpx.Response], **fields: object) -> Chat:
    created = vapi.chats.create(input="Your appointment is tomorrow at 10.", **fields)
    assert isinstance(created, Chat)
    return checked(created, answers[-1].json())


def test_a_plain_chat_is_the_providers_answer_under_our_ids(
    vapi: Vapi,
    answers: list[httpx.Response],
    org: CreatedOrg,
    chats_provider: ChatsProvider,
    session: Session,
) -> None:
    created = vapi.chats.create(input="Hello", assistant_id="assistant-1", name="Greeting")
    assert isinstance(created, Chat)
    chat = checked_chat(created, answers[-1].json())

    assert answers[-1].status_code == 201
    row = session.get(ChatRow, uuid.UUID(chat.id))
    assert row is not None and row.provider_chat_id == "pchat-1"
    assert chat.org_id == str(org.org_id)
    assert chat.output is not None and chat.output[0].content == "You said: Hello"  # type: ignore[union-attr]
    assert (chat.cost, chat.name, chat.assistant_id) == (0.002, "Greeting", "assistant-1")
    assert extensions(chat) == set()
    sent = chats_provider.received[0][2]
    assert sent["assistantOverrides"]["metadata"] == {"orchestratorChatId": chat.id}
    assert sent["assistantOverrides"]["server"]["url"].endswith("/webhooks/vapi")
    assert checked_chat(vapi.chats.get(chat.id), answers[-1].json()) == chat
    assert chat.messages is not None and chat.messages[0].role == "user"


def test_chats_are_listed_with_vapis_filters_and_deleted_at_the_provider(
    vapi: Vapi, answers: list[httpx.Response], chats_provider: ChatsProvider
) -> None:
    first = vapi.chats.create(input="one", assistant_id="assistant-1")
    second = vapi.chats.create(input="two", assistant_id="assistant-2")
    assert isinstance(first, Chat) and isinstance(second, Chat)

    page = vapi.chats.list(assistant_id_any="assistant-1,assistant-9", limit=10)
    for index, listed in enumerate(page.results):
        checked_chat(listed, answers[-1].json()["results"][index])
    assert [chat.id for chat in page.results] == [first.id]
    assert page.metadata.total_items == 1
    both = vapi.chats.list(id_any=f"{first.id},{second.id},nonsense", sort_order="ASC")
    assert [chat.id for chat in both.results] == [first.id, second.id]
    paged = vapi.chats.list(limit=1, page=2)
    strict_page = strictly(ChatPaginatedResponse, answers[-1].json())
    assert [chat.id for chat in strict_page.results] == [chat.id for chat in paged.results]
    assert [chat.id for chat in paged.results] == [first.id]

    deleted = vapi.chats.delete(first.id)
    assert checked_chat(deleted, answers[-1].json()).id == first.id
    assert "/chat/pchat-1" in chats_provider.paths("DELETE")
    with pytest.raises(ApiError) as raised:
        vapi.chats.get(first.id)
    assert raised.value.status_code == 404
    assert raised.value.body == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "Chat not found",
    }


def test_a_text_is_queued_in_a_new_session_and_continued_in_it(
    vapi: Vapi,
    org: CreatedOrg,
    answers: list[httpx.Response],
    tasks: RecordedTasks,
    session: Session,
) -> None:
    customer = CreateCustomerDto(number=NUMBER, name="Ada")
    first = send_text(
        vapi,
        answers,
        assistant_id="assistant-1",
        transport=sms(phone_number_id="phone-1", customer=customer),
    )

    assert answers[-1].status_code == 201
    assert extensions(first) == {"delivery"}
    assert answers[-1].json()["delivery"] == {"status": "queued"}
    assert first.session_id is not None
    opened = session.get(ChatSession, uuid.UUID(first.session_id))
    assert opened is not None
    assert (opened.customer_number, opened.phone_number_id) == (NUMBER, "phone-1")
    assert tasks.sent == [(SEND_TEXT, (first.id,))]

    again = send_text(vapi, answers, session_id=first.session_id, transport=sms())
    assert again.session_id == first.session_id
    rows = session.scalars(
        select(ChatRow).where(ChatRow.org_id == org.org_id).order_by(ChatRow.created_at)
    ).all()
    assert [row.customer_number for row in rows] == [NUMBER, NUMBER]
    assert all(row.delivery_status == TextStatus.QUEUED for row in rows)


def test_a_queued_text_deleted_is_withdrawn_and_never_sent(
    vapi: Vapi, answers: list[httpx.Response], session: Session
) -> None:
    text = send_text(
        vapi,
        answers,
        assistant_id="assistant-1",
        transport=sms(phone_number_id="phone-1", customer=CreateCustomerDto(number=NUMBER)),
    )

    withdrawn = vapi.chats.delete(text.id)
    checked(withdrawn, answers[-1].json())
    assert answers[-1].json()["delivery"] == {
        "status": "failed",
        "reason": "deleted before it was sent",
    }
    row = session.get(ChatRow, uuid.UUID(text.id))
    assert row is not None and row.delivery_status == TextStatus.FAILED
    vapi.chats.delete(text.id)  # ended now: this removes it
    assert session.get(ChatRow, row.id) is None


def test_every_problem_of_a_text_is_one_400(vapi: Vapi, session: Session) -> None:
    other = make_org(session, name="other")
    foreign = queued_text(session, org=other)
    with pytest.raises(ApiError) as raised:
        vapi.chats.create(
            input="hi",
            stream=True,
            session_id=str(foreign.session_id),
            transport=sms(phone_number_id="phone-1", customer=CreateCustomerDto(number=NUMBER)),
        )
    assert raised.value.status_code == 400
    assert raised.value.body["message"] == [
        "stream is not supported: a chat is answered whole once the assistant has replied",
        "sessionId cannot be used together with transport.phoneNumberId or transport.customer: "
        "a session already has its phone number and customer",
        f"sessionId {foreign.session_id} is not a session of this org",
    ]

    with pytest.raises(ApiError) as raised:
        vapi.chats.create(input="hi", transport=sms())
    assert raised.value.body["message"] == [
        "transport.phoneNumberId should not be empty: "
        "a text in a new session needs a caller number",
        "transport.customer.number should not be empty: a text in a new session needs one",
        "one of assistantId, assistant, squadId or squad must be provided: "
        "a text in a new session needs the assistant that writes and answers it",
    ]


def test_a_suppressed_or_invalid_number_is_a_400_naming_it(
    vapi: Vapi, org: CreatedOrg, session: Session, tasks: RecordedTasks
) -> None:
    suppress(session, org=org, numbers=[NUMBER], reason="opt-out")
    for number, message in [
        (NUMBER, f"transport.customer.number {NUMBER} is on the suppression list (opt-out)"),
        ("+1555", "transport.customer.number must be a valid E.164 phone number"),
    ]:
        customer = CreateCustomerDto(number=number, number_e_164_check_enabled=False)
        with pytest.raises(ApiError) as raised:
            vapi.chats.create(
                input="hi",
                assistant_id="assistant-1",
                transport=sms(phone_number_id="phone-1", customer=customer),
            )
        assert raised.value.status_code == 400
        assert raised.value.body["message"] == [message]
    assert session.scalars(select(ChatRow).where(ChatRow.org_id == org.org_id)).all() == []
    assert tasks.sent == []


@pytest.mark.parametrize(
    ("failure", "status", "message"),
    [
        (
            (400, {"message": ["assistantId must be an assistant"]}),
            400,
            ["provider: assistantId must be an assistant"],
        ),
        ((500, {"message": "boom"}), 502, "The provider failed to answer (HTTP 500)."),
        (
            (429, {"message": "slow down"}),
            503,
            "The provider is rate limiting our requests; try again shortly.",
        ),
    ],
)
def test_a_provider_that_refuses_or_fails_leaves_nothing_stored(
    vapi: Vapi,
    org: CreatedOrg,
    chats_provider: ChatsProvider,
    session: Session,
    failure: tuple[int, object],
    status: int,
    message: object,
) -> None:
    chats_provider.failure = failure
    with pytest.raises(ApiError) as raised:
        # Not retried by the SDK: the first answer is the one checked.
        vapi.chats.create(input="hi", assistant_id="nope", request_options={"max_retries": 0})
    assert raised.value.status_code == status
    assert raised.value.body["message"] == message
    assert session.scalars(select(ChatRow).where(ChatRow.org_id == org.org_id)).all() == []


def test_a_campaigns_queued_text_deleted_skips_its_contact_and_the_campaign_ends(
    vapi: Vapi,
    answers: list[httpx.Response],
    session: Session,
    org: CreatedOrg,
    clock: ManualClock,
) -> None:
    campaign_id, texts = sms_campaign_texts(session, org=org, customers=1, now=clock.now)
    assert len(texts) == 1

    withdrawn = vapi.chats.delete(str(texts[0].id))
    checked(withdrawn, answers[-1].json())
    assert answers[-1].json()["delivery"]["status"] == "failed"
    [contact] = contacts_of(session, campaign_id=campaign_id)
    assert (contact.status, contact.status_reason) == (
        ContactStatus.SKIPPED,
        TEXT_WITHDRAWN_BY_USER,
    )
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert counter_drift(session, campaign=campaign) == {}
