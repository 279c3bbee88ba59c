"""Providers of phone numbers for the API's phone-number endpoints, over real HTTP.

``NumbersProvider`` serves Vapi's ``GET /phone-number[/{id}]`` with numbers of every kind Vapi
has (its credentials and inbound configuration included, as Vapi's account owner sees them),
or fails as told. ``Lookups`` points an API's phone-number endpoints at a provider, through a
client whose every request is counted and a cache of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient

from orchestrator.phone_numbers.cache import LookupCache
from orchestrator.phone_numbers.provider import ProviderNumbers, provider_numbers
from orchestrator.providers import VapiClient

PROVIDER_KEY = "sk-provider-secret-key-0042"
STAMP = "2026-03-02T10:00:00.000Z"
# What no org may see of the provider's numbers.
SECRETS = ("tok-twilio-secret", "twilio-api-secret", "sip-password", "hook-secret")


def every_kind(provider_org: str = "provider-org") -> list[dict[str, Any]]:
    """One number of each of Vapi's five kinds, as Vapi sends them to the account's owner."""
    common = {"orgId": provider_org, "createdAt": STAMP, "updatedAt": STAMP, "status": "active"}
    hook = {"url": "https://operator.example/hook", "headers": {"x-hook": "hook-secret"}}
    return [
        {
            **common,
            "provider": "vapi",
            "id": "vapi-1",
            "number": "+14155550101",
            "sipUri": "sip:line@sip.example",
            "authentication": {"realm": "sip", "username": "u", "password": "sip-password"},
            "server": hook,
        },
        {
            **common,
            "provider": "twilio",
            "id": "twilio-1",
            "number": "+14155550102",
            "name": "Sales line",
            "twilioAccountSid": "AC0001",
            "twilioAuthToken": "tok-twilio-secret",
            "twilioApiKey": "SK0001",
            "twilioApiSecret": "twilio-api-secret",
            "smsEnabled": False,
            "hooks": [{"on": "call.ringing", "do": []}],
        },
        {
            **common,
            "provider": "byo-phone-number",
            "id": "byo-1",
            "number": "+14155550103",
            "credentialId": "cred-byo",
            "numberE164CheckEnabled": True,
            "fallbackDestination": {"type": "number", "number": "+14155550199"},
        },
        {**common, "provider": "vonage", "id": "vonage-1", "number": "+14155550104"}
        | {"credentialId": "cred-vonage"},
        {**common, "provider": "telnyx", "id": "telnyx-1", "number": "+14155550105"}
        | {"credentialId": "cred-telnyx", "assistantId": "asst-inbound"},
    ]


@dataclass
class NumbersProvider:
    """``failure`` (status, body, headers), when set, is every answer; ``delay`` comes first."""

    numbers: list[dict[str, Any]] = field(default_factory=every_kind)
    failure: tuple[int, Any, dict[str, str]] | None = None
    delay: float = 0.0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/phone-number")
        async def listed() -> Response:
            return await self._answer(lambda: self.numbers)

        @app.get("/phone-number/{phone_id}")
        async def one(phone_id: str) -> Response:
            found = [number for number in self.numbers if number.get("id") == phone_id]
            return await self._answer(lambda: found[0] if found else None)

        return app

    async def _answer(self, body: Any) -> Response:
        await asyncio.sleep(self.delay)
        if self.failure is not None:
            status, content, headers = self.failure
            if isinstance(content, bytes):
                return Response(content, status_code=status, headers=headers)
            return JSONResponse(content, status_code=status, headers=headers)
        found = body()
        if found is None:
            error = {"statusCode": 404, "error": "Not Found", "message": "Couldn't find it."}
            return JSONResponse(error, status_code=404)
        return JSONResponse(found)


class CountingTransport(httpx.HTTPTransport):
    """Real HTTP; every request's URL is noted."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[httpx.URL] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url)
        return super().handle_request(request)

    @property
    def paths(self) -> list[str]:
        """Each request's path as sent (percent-encoded), without its query."""
        return [url.raw_path.decode().partition("?")[0] for url in self.urls]

    @property
    def queries(self) -> list[str]:
        return [url.query.decode() for url in self.urls]


@dataclass
class Lookups:
    """What an API's phone-number endpoints asked its provider."""

    client: VapiClient
    transport: CountingTransport
    cache: LookupCache

    @property
    def asked(self) -> list[str]:
        return self.transport.paths


@contextmanager
def looking_up(
    api: TestClient, base_url: str, *, ttl_seconds: float = 5.0, timeout: float = 5.0
) -> Iterator[Lookups]:
    """``api``'s phone-number endpoints ask the provider at ``base_url``."""
    transport = CountingTransport()
    client = VapiClient(
        base_url=base_url, api_key=PROVIDER_KEY, timeout=timeout, transport=transport
    )
    lookups = Lookups(client, transport, LookupCache(ttl_seconds=ttl_seconds))
    overrides = api.app.dependency_overrides  # type: ignore[attr-defined]
    overrides[provider_numbers] = lambda: ProviderNumbers(client, lookups.cache)
    try:
        yield lookups
    finally:
        overrides.pop(provider_numbers, None)
        client.close()
