"""Vapi's chat endpoints (``/chat``, ``/chat/{id}``).

A chat without a transport is forwarded to the provider at once and answered with what it
made. A chat with the SMS transport is a text: stored ``queued`` and answered at once, then
sent by the workers (the request's transaction commits before the answer, so the task sent
after it finds the text).
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, status

from orchestrator.chats import service
from orchestrator.chats.schemas import ChatListQuery, ChatOut, ChatPageOut, CreateChatIn
from orchestrator.chats.wire import chat_to_wire
from orchestrator.clock import utcnow
from orchestrator.db import SessionDep
from orchestrator.enqueue import TaskQueue, TaskQueueDep
from orchestrator.exceptions import error_responses
from orchestrator.flows.forward_chats import create_plain_chat, delete_at_provider
from orchestrator.orgs.auth import CallerDep
from orchestrator.providers.chats import ProviderChats
from orchestrator.providers.client import provider_chats

logger = logging.getLogger(__name__)
router = APIRouter(tags=["Chats"])

ProviderChatsDep = Annotated[ProviderChats, Depends(provider_chats)]


def send_soon(queue: TaskQueue, chat_id: uuid.UUID) -> None:
    """The text is sent at once when its number's pace allows."""
    try:
        queue.send_texts([chat_id])
    except Exception:  # a failed enqueue only delays: the text dispatcher finds it queued
        logger.warning("could not enqueue the text %s", chat_id, exc_info=True)


@router.post(
    "/chat",
    status_code=status.HTTP_201_CREATED,
    response_model=ChatOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 502, 503),
)
def create_chat(
    body: CreateChatIn,
    caller: CallerDep,
    session: SessionDep,
    background: BackgroundTasks,
    queue: TaskQueueDep,
    provider: ProviderChatsDep,
) -> Any:
    """A plain chat is the provider's answer, stored (nothing is stored when the provider
    refuses, 400, fails, 502, or cannot be reached, 503). A text (``transport.type``
    ``twilio.sms``) is answered at once with ``delivery.status`` ``queued``."""
    if body.transport is None:
        return create_plain_chat(session, provider=provider, org_id=caller.org_id, body=body)
    chat = service.queue_outbound_text(
        session, org_id=caller.org_id, body=body, transport=body.transport, now=utcnow()
    )
    background.add_task(send_soon, queue, chat.id)
    return chat_to_wire(chat)


@router.get(
    "/chat",
    response_model=ChatPageOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401),
)
def list_chats(
    query: Annotated[ChatListQuery, Query()], caller: CallerDep, session: SessionDep
) -> Any:
    return service.list_chats(session, org_id=caller.org_id, query=query)


@router.get(
    "/chat/{chat_id}",
    response_model=ChatOut,
    response_model_exclude_unset=True,
    responses=error_responses(401, 404),
)
def get_chat(chat_id: str, caller: CallerDep, session: SessionDep) -> Any:
    return chat_to_wire(service.require_chat(session, org_id=caller.org_id, chat_id=chat_id))


@router.delete(
    "/chat/{chat_id}",
    response_model=ChatOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 404),
)
def delete_chat(
    chat_id: str,
    caller: CallerDep,
    session: SessionDep,
    background: BackgroundTasks,
    provider: ProviderChatsDep,
) -> Any:
    """A text not yet sent is withdrawn (``delivery.status`` ``failed``; it is never sent)
    and kept; deleting it again removes it. Any other chat is removed, and deleted at the
    provider after the commit, best effort (one the provider keeps is no longer ours)."""
    deleted = service.delete_chat(session, org_id=caller.org_id, chat_id=chat_id, now=utcnow())
    if deleted.provider_chat_id is not None:
        background.add_task(delete_at_provider, provider, deleted.provider_chat_id)
    return deleted.wire
