"""The provider's chat and session endpoints (Vapi's ``/chat`` and ``/session``).

Objects are passed on as the provider sent them (dicts with a string ``id``): we store what it
says and answer our own wire format from our rows. Like the call methods, nothing is retried
here; a failed ``POST /chat`` is ambiguous (``ProviderError.ambiguous``) when the provider may
have made the chat, and the caller looks it up rather than sending again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from orchestrator.providers.errors import ProviderError
from orchestrator.providers.vapi import VapiClient, format_timestamp


class ProviderChats:
    """``/chat`` and ``/session`` over a ``VapiClient``'s pooled connection and key."""

    def __init__(self, client: VapiClient) -> None:
        self._client = client

    def create_chat(self, body: dict[str, Any]) -> dict[str, Any]:
        return _object(self._client.request("POST", "/chat", json=body), "chat", created=True)

    def get_chat(self, chat_id: str) -> dict[str, Any]:
        return _object(self._client.request("GET", f"/chat/{quote(chat_id, safe='')}"), "chat")

    def delete_chat(self, chat_id: str) -> dict[str, Any]:
        path = f"/chat/{quote(chat_id, safe='')}"
        return _object(self._client.request("DELETE", path), "chat")

    def list_chats(
        self,
        *,
        session_id: str | None = None,
        created_at_ge: datetime | None = None,
        created_at_le: datetime | None = None,
        limit: int = 100,
        page: int = 1,
    ) -> list[dict[str, Any]]:
        """Newest first; Vapi answers ``{results, metadata}``, a bare array is taken too."""
        params: dict[str, str | int] = {"limit": limit, "page": page}
        if session_id is not None:
            params["sessionId"] = session_id
        if created_at_ge is not None:
            params["createdAtGe"] = format_timestamp(created_at_ge)
        if created_at_le is not None:
            params["createdAtLe"] = format_timestamp(created_at_le)
        return _results(self._client.request("GET", "/chat", params=params), "chats")

    def create_session(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = self._client.request("POST", "/session", json=body)
        return _object(answer, "session", created=True)

    def get_session(self, session_id: str) -> dict[str, Any]:
        path = f"/session/{quote(session_id, safe='')}"
        return _object(self._client.request("GET", path), "session")

    def update_session(self, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
        path = f"/session/{quote(session_id, safe='')}"
        return _object(self._client.request("PATCH", path, json=body), "session")

    def delete_session(self, session_id: str) -> dict[str, Any]:
        path = f"/session/{quote(session_id, safe='')}"
        return _object(self._client.request("DELETE", path), "session")

    def list_sessions(
        self,
        *,
        customer_number: str | None = None,
        phone_number_id: str | None = None,
        created_at_ge: datetime | None = None,
        limit: int = 100,
        page: int = 1,
    ) -> list[dict[str, Any]]:
        params: dict[str, str | int] = {"limit": limit, "page": page}
        if customer_number is not None:
            params["customerNumberAny"] = customer_number
        if phone_number_id is not None:
            params["phoneNumberId"] = phone_number_id
        if created_at_ge is not None:
            params["createdAtGe"] = format_timestamp(created_at_ge)
        return _results(self._client.request("GET", "/session", params=params), "sessions")


def _object(payload: Any, what: str, *, created: bool = False) -> dict[str, Any]:
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        # A create answered in a shape we cannot read may still have made the object.
        raise ProviderError(
            f"unreadable provider response: a {what} without a string id", ambiguous=created
        )
    return payload


def _results(payload: Any, what: str) -> list[dict[str, Any]]:
    if isinstance(payload, dict) and isinstance(payload.get("results"), list):
        payload = payload["results"]
    if not isinstance(payload, list):
        raise ProviderError(f"unreadable provider response: the list of {what} is not a list")
    return [_object(item, what.removesuffix("s")) for item in payload]
