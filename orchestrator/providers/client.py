"""The provider client a process uses: one pooled connection, configured from the settings."""

from __future__ import annotations

import logging
from functools import lru_cache

from orchestrator.config import get_settings
from orchestrator.providers.chats import ProviderChats
from orchestrator.providers.errors import ProviderError
from orchestrator.providers.vapi import VapiClient

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def provider_client() -> VapiClient:
    """One pooled client per worker process (created lazily, after the fork)."""
    settings = get_settings()
    return VapiClient(
        base_url=settings.provider_base_url,
        api_key=settings.provider_api_key,
        timeout=settings.provider_timeout_seconds,
    )


def provider_chats() -> ProviderChats:
    """The provider's chat and session endpoints, on the process's pooled client."""
    return ProviderChats(provider_client())


def warm_up_provider_client() -> None:
    """Open the provider connection before the first call needs it.

    A cold first request (connection, first-use setup) is slower than the rest; were the
    first call of a worker delayed that way, it could reach the provider bunched up with the
    calls the rate gate let through after it.
    """
    try:
        provider_client().list_calls(limit=1)
    except ProviderError as error:
        logger.warning("provider not reachable yet: %s", error)
