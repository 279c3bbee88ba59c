"""Placing one call: compare-and-set, commit, ``POST /call``, record the answer."""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum
from functools import lru_cache

from orchestrator.calls import repository
from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.service import fail_call, record_provider_call
from orchestrator.config import get_settings
from orchestrator.db import session_scope
from orchestrator.providers.errors import ProviderError
from orchestrator.providers.vapi import VapiClient

logger = logging.getLogger(__name__)

PROVIDER_REJECTED = "provider-rejected"
PROVIDER_UNAVAILABLE = "provider-unavailable"


class PlaceOutcome(StrEnum):
    PLACED = "placed"
    NOT_MINE = "not-mine"
    FAILED = "failed"


@lru_cache(maxsize=1)
def _provider_client() -> VapiClient:
    """One pooled client per worker process (created lazily, after the fork)."""
    settings = get_settings()
    return VapiClient(
        base_url=settings.provider_base_url,
        api_key=settings.provider_api_key,
        timeout=settings.provider_timeout_seconds,
    )


def _record_failure(call_id: uuid.UUID, error: ProviderError) -> None:
    reason = PROVIDER_UNAVAILABLE if error.ambiguous else PROVIDER_REJECTED
    logger.warning("call %s: provider create failed: %s", call_id, error)
    with session_scope() as session:
        call = repository.get_call_for_update(session, call_id=call_id)
        if call is not None:
            fail_call(session, call, reason=reason, message=error.message[:2000])


def place_call(call_id: uuid.UUID) -> PlaceOutcome:
    settings = get_settings()
    with session_scope() as session:
        request = begin_dial(session, call_id=call_id, settings=settings)
    if request is None:
        return PlaceOutcome.NOT_MINE
    try:
        created = _provider_client().create_call(request)
    except ProviderError as error:
        _record_failure(call_id, error)
        return PlaceOutcome.FAILED
    with session_scope() as session:
        record_provider_call(session, call_id=call_id, provider_call=created.model_dump())
    return PlaceOutcome.PLACED
