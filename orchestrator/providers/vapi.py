"""A typed, synchronous client for a Vapi-compatible call provider.

Only the endpoints the orchestrator needs are covered: create a call, read one, list recent
ones; list the account's phone numbers, read one. The client never retries: whether a failed
create may be retried depends on whether the call might exist already, which the caller decides
from ``ProviderError.ambiguous``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from orchestrator.clock import utcnow
from orchestrator.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
)

logger = logging.getLogger(__name__)

_REDACTED = "[redacted]"


class CreateCallRequest(BaseModel):
    """Body of ``POST /call`` (Vapi's CreateCallDTO, the fields the orchestrator uses)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    assistant_id: str | None = None
    assistant: dict[str, Any] | None = None
    squad_id: str | None = None
    workflow_id: str | None = None
    phone_number_id: str | None = None
    customer: dict[str, Any]
    assistant_overrides: dict[str, Any] | None = None
    squad_overrides: dict[str, Any] | None = None
    name: str | None = None


class ProviderCall(BaseModel):
    """A call as the provider reports it (Vapi's Call); unknown fields are kept."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    id: str
    org_id: str | None = None
    type: str | None = None
    status: str | None = None
    ended_reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    cost: float | None = None
    phone_number_id: str | None = None
    customer: dict[str, Any] | None = None
    assistant_id: str | None = None
    squad_id: str | None = None
    workflow_id: str | None = None
    assistant_overrides: dict[str, Any] | None = None
    analysis: dict[str, Any] | None = None
    name: str | None = None


def format_timestamp(value: datetime) -> str:
    """Vapi's wire format: ISO 8601 in UTC with milliseconds and a ``Z`` suffix.

    The year always has four digits; an instant UTC cannot hold (hours before year 1 or after
    year 9999) becomes the first or last one it can: as a query bound it selects the same.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = (datetime.min if value.year == datetime.min.year else datetime.max).replace(
            tzinfo=UTC
        )
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After is either delay-seconds or an HTTP date; both become seconds from now."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or utcnow())).total_seconds())


def extract_messages(response: httpx.Response) -> list[str]:
    """The ``message`` of a NestJS error body (string or list), else the raw text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("message")
        if isinstance(message, str):
            return [message]
        if isinstance(message, list):
            return [str(item) for item in message]
        error = body.get("error")
        if isinstance(error, str):
            return [error]
    text = response.text.strip()
    return [text[:500]] if text else [response.reason_phrase or f"HTTP {response.status_code}"]


class VapiClient:
    """Calls a Vapi-compatible API with a bearer key that never appears in logs or errors."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not api_key.strip():
            raise ValueError("api_key must not be empty")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"VapiClient(base_url={self.base_url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def create_call(self, request: CreateCallRequest) -> ProviderCall:
        body = request.model_dump(mode="json", by_alias=True, exclude_none=True)
        return self._parse_call(self._request("POST", "/call", json=body))

    def get_call(self, call_id: str) -> ProviderCall:
        return self._parse_call(self._request("GET", f"/call/{quote(call_id, safe='')}"))

    def list_calls(
        self,
        *,
        created_at_gt: datetime | None = None,
        limit: int = 100,
        phone_number_id: str | None = None,
        created_at_lt: datetime | None = None,
    ) -> list[ProviderCall]:
        """Newest first, at most ``limit`` (Vapi caps it at 1000)."""
        params: dict[str, str | int] = {"limit": limit}
        if created_at_gt is not None:
            params["createdAtGt"] = format_timestamp(created_at_gt)
        if created_at_lt is not None:
            params["createdAtLt"] = format_timestamp(created_at_lt)
        if phone_number_id is not None:
            params["phoneNumberId"] = phone_number_id
        response = self._request("GET", "/call", params=params)
        return [self._validate_call(item, response) for item in self._items(response, "calls")]

    def list_phone_numbers(
        self, *, limit: int = 100, bounds: Mapping[str, datetime] | None = None
    ) -> list[dict[str, Any]]:
        """Vapi's PhoneNumber objects as sent, each with a string ``id``; ``bounds`` are the
        ``createdAt``/``updatedAt`` filters by their query names (``createdAtGt``...)."""
        params: dict[str, str | int] = {"limit": limit}
        params.update({name: format_timestamp(value) for name, value in (bounds or {}).items()})
        response = self._request("GET", "/phone-number", params=params)
        items = self._items(response, "phone numbers")
        return [self._validate_phone_number(item, response) for item in items]

    def get_phone_number(self, phone_number_id: str) -> dict[str, Any]:
        """One PhoneNumber as sent; an unknown id is a ``ProviderRejected`` with status 404."""
        path = f"/phone-number/{quote(phone_number_id, safe='')}"
        response = self._request("GET", path)
        return self._validate_phone_number(self._json(response), response)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any endpoint: its JSON body, or a ``ProviderError`` as for the typed methods."""
        return self._json(self._request(method, path, **kwargs))

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ProviderUnreachable(self._describe(method, path, exc)) from exc
        except (httpx.LocalProtocolError, httpx.UnsupportedProtocol) as exc:
            # The request could not even be formed, so nothing reached the provider.
            raise ProviderError(self._describe(method, path, exc)) from exc
        except httpx.TransportError as exc:
            raise ProviderTimeout(self._describe(method, path, exc)) from exc
        logger.debug("provider %s %s -> %s", method, path, response.status_code)
        if response.is_success:
            return response
        raise self._error_for(response)

    def _describe(self, method: str, path: str, exc: httpx.TransportError) -> str:
        detail = self._redact(str(exc)) or type(exc).__name__
        return f"{method} {path} failed: {type(exc).__name__}: {detail}"

    def _error_for(self, response: httpx.Response) -> ProviderError:
        status = response.status_code
        messages = [self._redact(message) for message in extract_messages(response)]
        text = "; ".join(messages)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return ProviderRateLimited(text, status_code=status, retry_after=retry_after)
        if status >= 500:
            return ProviderServerError(text, status_code=status)
        return ProviderRejected(text, status_code=status, messages=messages)

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, _REDACTED) if self._api_key else text

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise _unreadable(response, "body is not JSON") from exc

    def _items(self, response: httpx.Response, what: str) -> list[Any]:
        payload = self._json(response)
        # Vapi answers a bare array; tolerate the paginated envelope some endpoints use.
        if isinstance(payload, dict) and isinstance(payload.get("results"), list):
            payload = payload["results"]
        if not isinstance(payload, list):
            raise _unreadable(response, f"list of {what} is not a JSON array")
        return payload

    @staticmethod
    def _validate_phone_number(payload: Any, response: httpx.Response) -> dict[str, Any]:
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
            raise _unreadable(response, "a phone number is not an object with a string id")
        return payload

    def _parse_call(self, response: httpx.Response) -> ProviderCall:
        return self._validate_call(self._json(response), response)

    @staticmethod
    def _validate_call(payload: Any, response: httpx.Response) -> ProviderCall:
        try:
            return ProviderCall.model_validate(payload)
        except ValidationError as exc:
            detail = f"unexpected call payload ({exc.error_count()} errors)"
            raise _unreadable(response, detail) from exc


def _unreadable(response: httpx.Response, detail: str) -> ProviderError:
    # A successful POST we cannot read may still have created the call.
    return ProviderError(
        f"unreadable provider response: {detail}",
        status_code=response.status_code,
        ambiguous=response.request.method == "POST",
    )
