"""A plain chat's round trip to the provider, and what the provider's failures mean to the
caller of ``/chat`` and ``/session``.

The chat's session and previous chat are read first and that read ends before the provider is
asked, so no connection waits in a transaction for the assistant's reply. Only a chat the
provider made is stored: when it refuses, fails or cannot be reached, nothing is kept (a 5xx or
a timeout may still have made one there; it is not ours to show).
"""

from __future__ import annotations

import logging
import math
import uuid
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.chats import repository
from orchestrator.chats.schemas import CreateChatIn
from orchestrator.chats.service import Context, chat_context
from orchestrator.chats.wire import chat_to_wire
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.exceptions import BadGateway, DomainError, ServiceUnavailable, ValidationFailed
from orchestrator.models import Chat
from orchestrator.providers.chats import ProviderChats
from orchestrator.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
)
from orchestrator.providers.webhook_server import our_webhook_server
from orchestrator.sessions import repository as sessions_repo

logger = logging.getLogger(__name__)

# Sent in ``assistantOverrides.metadata``: the provider's chat then names ours.
CHAT_ID_KEY = "orchestratorChatId"
# The provider refusing our own key is not the caller's mistake.
_OUR_CREDENTIALS = (401, 403)


def provider_failure(error: ProviderError, *, what: str) -> DomainError:
    """A 400 with the provider's words when it refused the request, a 503 when it did not
    answer (try again shortly), a 502 when it answered badly."""
    logger.warning("provider %s failed: %s", what, error)
    if isinstance(error, ProviderRateLimited):
        wait = "shortly" if error.retry_after is None else f"in {math.ceil(error.retry_after)} s"
        return ServiceUnavailable(f"The provider is rate limiting our requests; try again {wait}.")
    if isinstance(error, ProviderRejected):
        if error.status_code in _OUR_CREDENTIALS:
            return BadGateway(f"The provider refused our request (HTTP {error.status_code}).")
        return ValidationFailed([f"provider: {message}" for message in error.messages])
    if isinstance(error, ProviderUnreachable):
        return ServiceUnavailable("The provider cannot be reached; try again shortly.")
    if isinstance(error, ProviderTimeout):
        return ServiceUnavailable("The provider did not answer in time; try again shortly.")
    if isinstance(error, ProviderServerError):
        return BadGateway(f"The provider failed to answer (HTTP {error.status_code}).")
    return BadGateway("The provider's answer could not be read.")


def _tagged(overrides: dict[str, Any] | None, chat_id: uuid.UUID) -> dict[str, Any]:
    tagged = dict(overrides or {})
    metadata = tagged.get("metadata")
    tagged["metadata"] = {
        **(metadata if isinstance(metadata, dict) else {}),
        CHAT_ID_KEY: str(chat_id),
    }
    tagged["server"] = our_webhook_server(get_settings())
    return tagged


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _unknown_to_provider(body: CreateChatIn, context: Context) -> list[str]:
    """A session or previous chat the provider has not made yet cannot be continued there."""
    errors = []
    if context.in_session is not None and context.in_session.provider_session_id is None:
        errors.append(f"sessionId {body.session_id} is not known to the provider yet")
    if context.previous is not None and context.previous.provider_chat_id is None:
        errors.append(f"previousChatId {body.previous_chat_id} is not known to the provider yet")
    return errors


def _provider_request(body: CreateChatIn, context: Context, chat_id: uuid.UUID) -> dict[str, Any]:
    """The body as given, with the provider's ids for ours and our id in its metadata."""
    request = body.model_dump(
        by_alias=True, exclude_none=True, exclude={"session_id", "previous_chat_id", "stream"}
    )
    request["assistantOverrides"] = _tagged(body.assistant_overrides, chat_id)
    if context.in_session is not None:
        request["sessionId"] = context.in_session.provider_session_id
    if context.previous is not None:
        request["previousChatId"] = context.previous.provider_chat_id
    return request


def _session_of(
    session: Session, *, org_id: uuid.UUID, context: Context, made: dict[str, Any]
) -> uuid.UUID | None:
    """Ours of the session the chat is in: the one continued, or one we know by its id."""
    if context.in_session is not None:
        return context.in_session.id
    provider_session_id = made.get("sessionId")
    if not isinstance(provider_session_id, str):
        return None
    found = sessions_repo.find_by_provider_id(
        session, org_id=org_id, provider_session_id=provider_session_id
    )
    return found.id if found is not None else None


def _made_chat(
    body: CreateChatIn, *, chat_id: uuid.UUID, org_id: uuid.UUID, made: dict[str, Any]
) -> Chat:
    """The chat the provider made, as we keep it."""
    now = utcnow()
    return Chat(
        id=chat_id,
        org_id=org_id,
        provider_chat_id=made["id"],
        name=body.name,
        assistant_id=body.assistant_id,
        assistant=body.assistant,
        assistant_overrides=body.assistant_overrides,
        squad_id=body.squad_id,
        squad=body.squad,
        input=body.input,
        messages=_list(made.get("messages")),
        output=_list(made.get("output")),
        cost=_float(made.get("cost")),
        costs=made.get("costs") if isinstance(made.get("costs"), list) else None,
        provider_synced_at=now,
        created_at=now,
        updated_at=now,
    )


def create_plain_chat(
    session: Session, *, provider: ProviderChats, org_id: uuid.UUID, body: CreateChatIn
) -> dict[str, Any]:
    """Ask the provider for the assistant's reply, store the chat it made, answer it."""
    context, errors = chat_context(session, org_id=org_id, body=body, now=utcnow())
    errors += _unknown_to_provider(body, context)
    if errors:
        raise ValidationFailed(errors)
    chat_id = uuid.uuid4()
    request = _provider_request(body, context, chat_id)
    session.commit()
    try:
        made = provider.create_chat(request)
    except ProviderError as error:
        raise provider_failure(error, what="chat create") from error
    chat = _made_chat(body, chat_id=chat_id, org_id=org_id, made=made)
    chat.session_id = _session_of(session, org_id=org_id, context=context, made=made)
    chat.previous_chat_id = context.previous.id if context.previous is not None else None
    repository.add_chat(session, chat)
    if context.in_session is not None:
        sessions_repo.touch(session, session_id=context.in_session.id, now=chat.created_at)
    return chat_to_wire(chat)


def delete_at_provider(provider: ProviderChats, provider_chat_id: str) -> None:
    """After the commit, best effort: a chat the provider keeps is only the provider's."""
    try:
        provider.delete_chat(provider_chat_id)
    except ProviderError as error:
        logger.warning("could not delete chat %s at the provider: %s", provider_chat_id, error)
