"""The simulator's ``/chat`` and ``/session`` endpoints, as Vapi serves them (bearer auth).

* ``POST /chat``: validates a CreateChatDTO subset (``text_validation``), then makes the chat
  (``chats``): 201 with the ``Chat`` (``sessionId`` for a text), or the create fault decided
  for it; 404 for an unknown ``sessionId``/``previousChatId``; 400 for a text the simulator
  refuses.
* ``GET /chat``: ``{results, metadata}`` filtered by ``id``, ``idAny``, ``assistantId(Any)``,
  ``squadId``, ``sessionId``, ``previousChatId``, the date bounds, paged (``text_queries``).
  It is the ground truth: every chat that exists, whatever its create answer was.
* ``GET /chat/{id}``, ``DELETE /chat/{id}`` (answers the chat, sends ``chat.deleted``).
* ``POST /session`` (sends ``session.created``), ``GET /session`` (paged, with
  ``customerNumberAny``, ``phoneNumberId(Any)``, ``assistantId(Any)``, ``name``...),
  ``GET /session/{id}``, ``PATCH /session/{id}`` (``name``, ``status``, ``expirationSeconds``,
  ``messages``, which replace the session's), ``DELETE /session/{id}`` (answers the session,
  sends ``session.deleted``; its chats stay: they were sent).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from orchestrator.simulator.chats import TextEngine, TextRefused
from orchestrator.simulator.faults import CreateFault
from orchestrator.simulator.http_errors import ApiError, fault_response, hold, json_body
from orchestrator.simulator.records import now_ms
from orchestrator.simulator.sessions import ChatRecord, SessionRecord
from orchestrator.simulator.text_exchanges import Exchange, envelope
from orchestrator.simulator.text_queries import ChatQuery, SessionQuery
from orchestrator.simulator.text_validation import validate_chat, validate_session


async def get_texts(request: Request) -> TextEngine:
    texts = request.app.state.simulator.texts
    assert isinstance(texts, TextEngine)
    return texts


TextsDep = Annotated[TextEngine, Depends(get_texts)]


async def create_chat(request: Request, texts: TextsDep) -> JSONResponse:
    body = await json_body(request)
    errors = validate_chat(body)
    if errors:
        raise ApiError(400, errors)
    assert isinstance(body, dict)
    try:
        created = await texts.create_chat(body)
    except TextRefused as refused:
        raise ApiError(refused.status_code, refused.message) from None
    faults = texts.config.faults
    fault = created.decision.fault
    if created.chat is None or fault is CreateFault.SERVER_ERROR_CREATED:
        return fault_response(created.decision, faults.retry_after)
    if fault is CreateFault.TIMEOUT:
        await hold(request, faults.timeout_hold)
    return JSONResponse(created.chat.to_json(), status_code=201)


async def list_chats(query: Annotated[ChatQuery, Query()], texts: TextsDep) -> dict[str, Any]:
    async with texts.lock:
        return query.page_of([c for c in texts.store.chats.values() if query.matches(c)])


def _chat(texts: TextEngine, chat_id: str) -> ChatRecord:
    chat = texts.store.chats.get(chat_id)
    if chat is None:
        raise ApiError(404, f"Chat {chat_id} not found.")
    return chat


def _session(texts: TextEngine, session_id: str) -> SessionRecord:
    session = texts.store.sessions.get(session_id)
    if session is None:
        raise ApiError(404, f"Session {session_id} not found.")
    return session


async def get_chat(chat_id: str, texts: TextsDep) -> dict[str, Any]:
    async with texts.lock:
        return _chat(texts, chat_id).to_json()


async def delete_chat(chat_id: str, texts: TextsDep) -> dict[str, Any]:
    async with texts.lock:
        chat = texts.store.delete_chat(_chat(texts, chat_id).id)
        session = texts.store.sessions.get(chat.session_id or "")
        body = chat.to_json()
        server = texts.server_of_chat(chat)
    texts.notify(
        Exchange(server, f"delete:{chat_id}", 1), envelope("chat.deleted", "chat", body, session)
    )
    return body


async def create_session(request: Request, texts: TextsDep) -> JSONResponse:
    body = await json_body(request)
    errors = validate_session(body)
    if errors:
        raise ApiError(400, errors)
    assert isinstance(body, dict)
    async with texts.lock:
        session = texts.store.new_session(body, now_ms())
        message = envelope("session.created", "session", session.to_json(), session)
    texts.notify(Exchange(session.server, f"session:{session.id}", 1), message)
    return JSONResponse(session.to_json(), status_code=201)


async def list_sessions(query: Annotated[SessionQuery, Query()], texts: TextsDep) -> dict[str, Any]:
    async with texts.lock:
        return query.page_of([s for s in texts.store.sessions.values() if query.matches(s)])


async def get_session(session_id: str, texts: TextsDep) -> dict[str, Any]:
    async with texts.lock:
        return _session(texts, session_id).to_json()


async def update_session(session_id: str, request: Request, texts: TextsDep) -> dict[str, Any]:
    body = await json_body(request)
    errors = validate_session(body, update=True)
    if errors:
        raise ApiError(400, errors)
    assert isinstance(body, dict)
    async with texts.lock:
        session = _session(texts, session_id)
        if "name" in body:
            session.name = body["name"]
        if body.get("status") is not None:
            session.status = str(body["status"])
        if body.get("expirationSeconds") is not None:
            session.expiration_seconds = int(body["expirationSeconds"])
        if body.get("messages") is not None:
            session.messages = list(body["messages"])
        session.touch(now_ms())
        texts.store.save_session(session)
        return session.to_json()


async def delete_session(session_id: str, texts: TextsDep) -> dict[str, Any]:
    async with texts.lock:
        session = texts.store.delete_session(_session(texts, session_id).id)
        body = session.to_json()
    message = envelope("session.deleted", "session", body, session)
    texts.notify(Exchange(session.server, f"delete:{session_id}", 1), message)
    return body


def add_text_routes(app: FastAPI, authed: list[Any]) -> None:
    routes: list[tuple[str, Any, str]] = [
        ("/chat", create_chat, "POST"),
        ("/chat", list_chats, "GET"),
        ("/chat/{chat_id}", get_chat, "GET"),
        ("/chat/{chat_id}", delete_chat, "DELETE"),
        ("/session", create_session, "POST"),
        ("/session", list_sessions, "GET"),
        ("/session/{session_id}", get_session, "GET"),
        ("/session/{session_id}", update_session, "PATCH"),
        ("/session/{session_id}", delete_session, "DELETE"),
    ]
    for path, endpoint, method in routes:
        app.add_api_route(path, endpoint, methods=[method], dependencies=authed)
