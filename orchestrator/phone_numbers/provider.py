"""The provider's phone numbers, read through its client and kept a few seconds.

The provider account is the deployment's: every org sees its numbers, the ones campaigns can
dial from, each with the org's own pacing. Lookups are kept per org (the cache key starts with
the org's id and names the provider), so an answer is only ever served to the org that asked,
also were orgs to get providers of their own. The query goes to the provider as the caller gave
it, so its filters and limit mean what Vapi says they mean.

A provider that fails is a 502 or a 503 in Vapi's error shape, never a 500; what it said is
logged (the client keeps our key out of it), not passed on.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from orchestrator.config import get_settings
from orchestrator.exceptions import BadGateway, DomainError, ServiceUnavailable
from orchestrator.phone_numbers.cache import LookupCache
from orchestrator.phone_numbers.schemas import PhoneNumberListQuery
from orchestrator.providers.client import provider_client
from orchestrator.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
)
from orchestrator.providers.vapi import VapiClient

logger = logging.getLogger(__name__)

Found = TypeVar("Found")


@dataclass(frozen=True)
class ProviderNumbers:
    client: VapiClient
    cache: LookupCache

    def list(self, *, org_id: uuid.UUID, query: PhoneNumberListQuery) -> list[dict[str, Any]]:
        """The provider's answer to ``GET /phone-number`` with the caller's query."""
        bounds = query.model_dump(by_alias=True, exclude_none=True, exclude={"limit"})
        key = (org_id, self.client.base_url, "list", query.limit, tuple(sorted(bounds.items())))
        return self._ask(
            key, lambda: self.client.list_phone_numbers(limit=query.limit, bounds=bounds)
        )

    def get(self, *, org_id: uuid.UUID, phone_number_id: str) -> dict[str, Any] | None:
        """The provider's number, or None when it has no such number."""
        key = (org_id, self.client.base_url, "get", phone_number_id)
        return self._ask(key, lambda: self._get_or_none(phone_number_id))

    def _get_or_none(self, phone_number_id: str) -> dict[str, Any] | None:
        try:
            return self.client.get_phone_number(phone_number_id)
        except ProviderRejected as error:
            if error.status_code == 404:
                return None
            raise

    def _ask(self, key: Hashable, lookup: Callable[[], Found]) -> Found:
        try:
            return self.cache.get(key, lookup)
        except ProviderError as error:
            raise provider_failure(error) from error


def provider_failure(error: ProviderError) -> DomainError:
    """A 503 when the provider did not answer (try again shortly), a 502 when it did, badly."""
    logger.warning("provider phone-number lookup failed: %s", error)
    if isinstance(error, ProviderRateLimited):
        wait = "shortly" if error.retry_after is None else f"in {math.ceil(error.retry_after)} s"
        return ServiceUnavailable(f"The provider is rate limiting our requests; try again {wait}.")
    if isinstance(error, ProviderUnreachable):
        return ServiceUnavailable("The provider cannot be reached; try again shortly.")
    if isinstance(error, ProviderTimeout):
        return ServiceUnavailable("The provider did not answer in time; try again shortly.")
    if isinstance(error, ProviderServerError):
        return BadGateway(f"The provider failed to answer (HTTP {error.status_code}).")
    if isinstance(error, ProviderRejected):
        return BadGateway(f"The provider refused our request (HTTP {error.status_code}).")
    return BadGateway("The provider's answer could not be read.")


@lru_cache(maxsize=1)
def number_cache() -> LookupCache:
    """The process's cache of provider lookups (each API process keeps its own)."""
    return LookupCache(ttl_seconds=get_settings().phone_number_cache_seconds)


def provider_numbers() -> ProviderNumbers:
    """The endpoints' dependency: the process's provider client and its cache."""
    return ProviderNumbers(provider_client(), number_cache())
