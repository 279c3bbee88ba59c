"""The demo's requests to the public HTTP API, each refused answer a ``DemoError``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from orchestrator.demo.campaign import (
    DEMO_CALLS_PER_SECOND,
    DEMO_MESSAGES_PER_SECOND,
    DEMO_PHONE_NUMBER_IDS,
)


class DemoError(RuntimeError):
    """The demo could not run its campaign to the end; the message says what happened."""


def error_text(response: httpx.Response) -> str:
    try:
        message = response.json().get("message", response.text)
    except (ValueError, AttributeError):
        message = response.text
    if isinstance(message, list):
        message = "; ".join(str(item) for item in message[:5])
    return f"HTTP {response.status_code}: {message}"


def set_pacing(client: httpx.Client) -> None:
    for number_id in DEMO_PHONE_NUMBER_IDS:
        response = client.put(
            f"/phone-number/{number_id}/pacing",
            json={
                "callsPerSecond": DEMO_CALLS_PER_SECOND,
                "maxConcurrency": None,
                "messagesPerSecond": DEMO_MESSAGES_PER_SECOND,
            },
        )
        if response.status_code != 200:
            raise DemoError(f"PUT pacing of {number_id} was refused: {error_text(response)}")


def create_campaign(client: httpx.Client, body: Mapping[str, Any]) -> str:
    response = client.post("/campaign", json=body)
    if response.status_code != 201:
        raise DemoError(f"POST /campaign was refused: {error_text(response)}")
    return str(response.json()["id"])


def get_campaign(client: httpx.Client, campaign_id: str) -> dict[str, Any]:
    response = client.get(f"/campaign/{campaign_id}")
    if response.status_code != 200:
        raise DemoError(f"GET /campaign/{campaign_id} failed: {error_text(response)}")
    body: dict[str, Any] = response.json()
    return body
