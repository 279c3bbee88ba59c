"""The periodic recovery sweep: each call in its own short transactions, HTTP in between.

Calls a lost create answer left ``dialing`` are looked up at the provider once no request for
them can still be under way; those it never created are dialed again (after the commit).
Calls silent for longer than ``call_silence_seconds`` are refreshed with ``GET /call/{id}``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orchestrator.calls import repository
from orchestrator.calls.placing import provider_client
from orchestrator.calls.recovery import (
    Resolution,
    find_created_call,
    refresh_silent_call,
    settle_unknown_create,
)
from orchestrator.config import get_settings
from orchestrator.db import session_scope
from orchestrator.models.base import utcnow
from orchestrator.pacing.service import unfinished_send_stale_seconds
from orchestrator.providers.errors import ProviderError
from orchestrator.providers.vapi import VapiClient

logger = logging.getLogger(__name__)

EnqueueCalls = Callable[[Sequence[uuid.UUID]], None]


@dataclass
class RecoverySweep:
    resolved: dict[Resolution, int] = field(default_factory=dict)
    refreshed: int = 0
    redialed: list[uuid.UUID] = field(default_factory=list)


def resolve_unknown_creates(*, client: VapiClient, now: datetime, sweep: RecoverySweep) -> None:
    latest_send = timedelta(seconds=unfinished_send_stale_seconds())
    with session_scope() as session:
        stuck = repository.unknown_create_calls(session, dialed_before=now - latest_send)
    for call_id, dialed_at, number in stuck:
        try:
            found = find_created_call(
                client,
                call_id=call_id,
                phone_number_id=number,
                dialed_at=dialed_at,
                latest_send=latest_send,
            )
        except ProviderError as error:
            logger.warning("call %s: provider lookup failed, will retry: %s", call_id, error)
            continue
        with session_scope() as session:
            resolution = settle_unknown_create(
                session, call_id=call_id, dialed_at=dialed_at, found=found
            )
        sweep.resolved[resolution] = sweep.resolved.get(resolution, 0) + 1
        if resolution == Resolution.NOT_CREATED:
            sweep.redialed.append(call_id)


def refresh_silent_calls(*, client: VapiClient, now: datetime, sweep: RecoverySweep) -> None:
    quiet_since = now - timedelta(seconds=get_settings().call_silence_seconds)
    with session_scope() as session:
        silent = repository.silent_calls(session, quiet_since=quiet_since)
    for call_id, provider_call_id in silent:
        try:
            provider_call = client.get_call(provider_call_id)
        except ProviderError as error:
            logger.warning("call %s: provider lookup failed, will retry: %s", call_id, error)
            continue
        with session_scope() as session:
            view = provider_call.model_dump(mode="json", by_alias=True)
            sweep.refreshed += refresh_silent_call(session, call_id=call_id, provider_call=view)


def run_recovery(*, enqueue: EnqueueCalls, now: datetime | None = None) -> RecoverySweep:
    moment = now or utcnow()
    client = provider_client()
    sweep = RecoverySweep()
    resolve_unknown_creates(client=client, now=moment, sweep=sweep)
    if sweep.redialed:
        enqueue(sweep.redialed)
    refresh_silent_calls(client=client, now=moment, sweep=sweep)
    return sweep
