"""A provider of chats and sessions over real HTTP, for the API's ``/chat`` and ``/session``.

``ChatsProvider`` answers Vapi's ``/chat`` and ``/session`` endpoints with Vapi-shaped objects
under its own ids (an assistant that answers "You said: <input>"), keeps what it was sent, and
fails as told. ``answering`` points an API's chat and session endpoints at one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient

from orchestrator.providers import VapiClient
from orchestrator.providers.chats import ProviderChats
from orchestrator.providers.client import provider_chats
from tests.support.servers import serve

STAMP = "2026-03-02T10:00:00.000Z"
PROVIDER_ORG = "provider-org"


def _not_found(what: str) -> JSONResponse:
    body = {"statusCode": 404, "error": "Not Found", "message": f"{what} not found"}
    return JSONResponse(body, status_code=404)


@dataclass
class ChatsProvider:
    """``failure`` (status, body), when set, is every answer."""

    chats: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: list[tuple[str, str, Any]] = field(default_factory=list)
    failure: tuple[int, Any] | None = None
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _failed(self) -> Response | None:
        if self.failure is None:
            return None
        status, body = self.failure
        return JSONResponse(body, status_code=status)

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        said = body.get("input")
        text = said if isinstance(said, str) else "messages"
        reply = {"role": "assistant", "content": f"You said: {text}"}
        chat = {
            **body,
            "id": f"pchat-{next(self._ids)}",
            "orgId": PROVIDER_ORG,
            # Vapi's UserMessage is a transcript line: what was said, and when.
            "messages": [
                {"role": "user", "message": text, "time": 0, "endTime": 0, "secondsFromStart": 0}
            ],
            "output": [reply],
            "cost": 0.002,
            "costs": [{"type": "chat", "cost": 0.002}],
            "createdAt": STAMP,
            "updatedAt": STAMP,
        }
        self.chats[chat["id"]] = chat
        return chat

    def _session(self, body: dict[str, Any]) -> dict[str, Any]:
        made = {
            "messages": [],
            **body,
            "id": f"psession-{next(self._ids)}",
            "orgId": PROVIDER_ORG,
            "status": body.get("status", "active"),
            "createdAt": STAMP,
            "updatedAt": STAMP,
        }
        self.sessions[made["id"]] = made
        return made

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def record(request: Request, call_next: Any) -> Response:
            raw = await request.body()
            body = await request.json() if raw else None
            self.received.append((request.method, request.url.path, body))
            failed = self._failed()
            return failed if failed is not None else await call_next(request)

        @app.post("/chat", status_code=201)
        async def create_chat(request: Request) -> Any:
            return self._chat(await request.json())

        @app.delete("/chat/{chat_id}")
        async def delete_chat(chat_id: str) -> Any:
            gone = self.chats.pop(chat_id, None)
            return gone if gone is not None else _not_found("Chat")

        @app.post("/session", status_code=201)
        async def create_session(request: Request) -> Any:
            return self._session(await request.json())

        @app.patch("/session/{session_id}")
        async def update_session(session_id: str, request: Request) -> Any:
            if session_id not in self.sessions:
                return _not_found("Session")
            self.sessions[session_id].update(await request.json())
            return self.sessions[session_id]

        @app.delete("/session/{session_id}")
        async def delete_session(session_id: str) -> Any:
            gone = self.sessions.pop(session_id, None)
            return gone if gone is not None else _not_found("Session")

        return app

    def paths(self, method: str) -> list[str]:
        return [path for sent, path, _ in self.received if sent == method]


@contextmanager
def serving() -> Iterator[tuple[ChatsProvider, str]]:
    provider = ChatsProvider()
    with serve(provider.app()) as base_url:
        yield provider, base_url


@contextmanager
def answering(api: TestClient, base_url: str, *, timeout: float = 5.0) -> Iterator[None]:
    """``api``'s chat and session endpoints ask the provider at ``base_url``."""
    client = VapiClient(base_url=base_url, api_key="sk-chats-provider", timeout=timeout)
    overrides = api.app.dependency_overrides  # type: ignore[attr-defined]
    overrides[provider_chats] = lambda: ProviderChats(client)
    try:
        yield
    finally:
        overrides.pop(provider_chats, None)
        client.close()
