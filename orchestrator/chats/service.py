"""Chats (Vapi's ``/chat``) as stored here: outbound texts queued, chats listed, read and
deleted. No commits here; a plain chat's round trip to the provider is
``flows/forward_chats.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.chats import repository
from orchestrator.chats.schemas import (
    ChatListQuery,
    CreateChatIn,
    SmsTransportIn,
    create_rule_errors,
)
from orchestrator.chats.wire import chat_to_wire
from orchestrator.exceptions import NotFound, ValidationFailed, id_or_not_found
from orchestrator.listing import page_metadata
from orchestrator.models import Chat, ChatSession, TextStatus
from orchestrator.phone_numbers import repository as phone_numbers_repo
from orchestrator.reasons import TEXT_DELETED
from orchestrator.sessions.service import continued_session
from orchestrator.suppression.service import suppressed_errors
from orchestrator.texts.service import TextRequest, queue_text
from orchestrator.texts.withdrawal import withdraw_texts
from orchestrator.wire import is_valid_e164

NOT_FOUND = "Chat not found"
TARGET_RULE = (
    "one of assistantId, assistant, squadId or squad must be provided: "
    "a text in a new session needs the assistant that writes and answers it"
)


@dataclass(frozen=True)
class Context:
    """What a new chat continues: its session and its previous chat (both ours), if any."""

    in_session: ChatSession | None
    previous: Chat | None


def chat_context(
    session: Session, *, org_id: uuid.UUID, body: CreateChatIn, now: datetime
) -> tuple[Context, list[str]]:
    """The session and previous chat a new chat names, and every rule it breaks."""
    errors = create_rule_errors(body.given_fields())
    in_session = previous = None
    if body.session_id is not None:
        in_session, found_errors = continued_session(
            session, org_id=org_id, session_id=body.session_id, now=now
        )
        errors += found_errors
    if body.previous_chat_id is not None:
        previous = _chat_or_none(session, org_id, body.previous_chat_id)
        if previous is None:
            errors.append(f"previousChatId {body.previous_chat_id} is not a chat of this org")
    return Context(in_session, previous), errors


def _chat_or_none(session: Session, org_id: uuid.UUID, chat_id: str) -> Chat | None:
    try:
        parsed = uuid.UUID(chat_id)
    except ValueError:
        return None
    return repository.get_chat_for_org(session, org_id=org_id, chat_id=parsed)


def _recipient(body: CreateChatIn, context: Context) -> tuple[str, str | None, list[str]]:
    """Where the text's number is named, the number, and what is wrong with the text's
    recipient or assistant."""
    if context.in_session is not None:
        return "sessionId's customer.number", context.in_session.customer_number, []
    if body.session_id is not None:  # a session not found: already reported
        return "", None, []
    errors = []
    targets = (body.assistant_id, body.assistant, body.squad_id, body.squad)
    if all(value is None for value in targets):
        errors.append(TARGET_RULE)
    customer = body.transport.customer if body.transport is not None else None
    number = customer.number if customer is not None else None
    if number is not None and not is_valid_e164(number):
        errors.append("transport.customer.number must be a valid E.164 phone number")
        number = None
    return "transport.customer.number", number, errors


def _text_request(
    org_id: uuid.UUID, body: CreateChatIn, transport: SmsTransportIn, context: Context
) -> TextRequest:
    customer = transport.customer
    return TextRequest(
        org_id=org_id,
        input=body.input,
        phone_number_id=transport.phone_number_id,
        customer=customer.model_dump(by_alias=True, exclude_none=True) if customer else None,
        session_id=context.in_session.id if context.in_session else None,
        transport=transport.model_dump(by_alias=True, exclude_none=True),
        assistant_id=body.assistant_id,
        assistant=body.assistant,
        assistant_overrides=body.assistant_overrides,
        squad_id=body.squad_id,
        squad=body.squad,
        name=body.name,
    )


def queue_outbound_text(
    session: Session,
    *,
    org_id: uuid.UUID,
    body: CreateChatIn,
    transport: SmsTransportIn,
    now: datetime,
) -> Chat:
    """Check a text whole (every problem in one 400), then store it ``queued`` in its
    session. The caller commits, then has it sent."""
    context, errors = chat_context(session, org_id=org_id, body=body, now=now)
    path, number, recipient_errors = _recipient(body, context)
    errors += recipient_errors
    if number is not None:
        errors += suppressed_errors(session, org_id=org_id, numbers=[(path, number)], now=now)
    if errors:
        raise ValidationFailed(errors)
    request = _text_request(org_id, body, transport, context)
    chat = queue_text(session, request=request, now=now, in_session=context.in_session)
    if context.previous is not None:
        chat.previous_chat_id = context.previous.id
    if chat.phone_number_id is not None:
        phone_numbers_repo.ensure_phone_numbers(
            session, org_id=org_id, provider_ids=[chat.phone_number_id]
        )
    session.flush()
    return chat


def list_chats(session: Session, *, org_id: uuid.UUID, query: ChatListQuery) -> dict[str, Any]:
    chats, total = repository.list_chats(session, org_id=org_id, query=query)
    return {
        "results": [chat_to_wire(chat) for chat in chats],
        "metadata": page_metadata(
            total=total, limit=query.limit, page=query.page, sort_order=query.sort_order.value
        ),
    }


def require_chat(session: Session, *, org_id: uuid.UUID, chat_id: str, lock: bool = False) -> Chat:
    """The org's chat, or a 404 (also for an id that is not a UUID)."""
    parsed = id_or_not_found(chat_id, message=NOT_FOUND)
    chat = repository.get_chat_for_org(session, org_id=org_id, chat_id=parsed, for_update=lock)
    if chat is None:
        raise NotFound(NOT_FOUND)
    return chat


@dataclass(frozen=True)
class Deleted:
    """The chat as answered, and the provider's id of one to delete there too."""

    wire: dict[str, Any]
    provider_chat_id: str | None


def delete_chat(session: Session, *, org_id: uuid.UUID, chat_id: str, now: datetime) -> Deleted:
    """Withdraw a text not yet sent (kept, ``failed``: it is never sent; a campaign's
    contact is skipped), or remove a chat.

    The row lock orders this against the worker sending the text: one it took first is being
    sent and cannot be withdrawn until the provider has answered for it.
    """
    chat = require_chat(session, org_id=org_id, chat_id=chat_id, lock=True)
    status = TextStatus(chat.delivery_status) if chat.delivery_status is not None else None
    if status == TextStatus.QUEUED:
        withdraw_texts(session, chats=[chat], reason=TEXT_DELETED, now=now)
        return Deleted(chat_to_wire(chat), None)
    if status == TextStatus.SENDING:
        raise ValidationFailed(
            ["the text is being sent: it can be deleted once the provider has answered for it"]
        )
    answered = Deleted(chat_to_wire(chat), chat.provider_chat_id)
    repository.delete_chat(session, chat)
    return answered
