"""Learning from the provider what its answers and messages did not tell us about texts.

* A text whose create answer was lost (timeout, 5xx, a worker that died mid-send) stays
  ``sending``. Once no create of it can still be under way, the provider's chats created since
  it left (in its session, when the session is known) are listed and matched by our id in
  ``assistantOverrides.metadata.orchestratorChatId``: found, it is ``sent``; surely absent (the
  whole listing read), it is queued again; the provider unreachable, it is asked again later.
  It is never sent again blindly.
* An active session with no news for ``session_silence_seconds`` is polled (``GET /session``).
* An active session silent past its ``expirationSeconds`` (a day unless set) is ``completed``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.db import UnitOfWork, session_scope
from orchestrator.flows.text_answers import accept_text
from orchestrator.gate.repository import forget_attempt
from orchestrator.metrics.service import count
from orchestrator.models import SessionStatus
from orchestrator.pacing.service import unfinished_send_stale_seconds
from orchestrator.providers.chats import ProviderChats
from orchestrator.providers.client import provider_chats
from orchestrator.providers.errors import (
    ProviderError,
    ProviderRejected,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
)
from orchestrator.texts import repository
from orchestrator.texts.sending import CHAT_ID_METADATA, move_text
from orchestrator.texts.states import TextEvent
from orchestrator.webhooks.session_messages import apply_session_snapshot

logger = logging.getLogger(__name__)

# Chats created a little before the text's recorded send time are listed too (clock skew).
LISTING_MARGIN = timedelta(seconds=30)
LOOKUP_LEASE = timedelta(minutes=2)
# A lookup that failed is tried again after this.
LOOKUP_RETRY = timedelta(seconds=30)
PAGE_SIZE = 100
# A listing longer than this is not read whole in one sweep: the text is asked about later.
MAX_PAGES = 20
LOOKUPS_PER_SWEEP = 50
POLLS_PER_SWEEP = 20
DEFAULT_EXPIRATION_SECONDS = 86_400
EXPIRATIONS_PER_SWEEP = 1000


@dataclass
class TextSweep:
    found: int = 0
    requeued: int = 0
    failed: int = 0
    polled: int = 0
    expired: int = 0


def _ours(chat: dict[str, Any], chat_id: uuid.UUID) -> bool:
    overrides = chat.get("assistantOverrides")
    metadata = overrides.get("metadata") if isinstance(overrides, dict) else None
    return isinstance(metadata, dict) and metadata.get(CHAT_ID_METADATA) == str(chat_id)


class TooManyChats(ProviderError):
    """The provider's chats in a text's window are more than one sweep reads."""


def find_created_text(
    chats: ProviderChats,
    *,
    chat_id: uuid.UUID,
    since: datetime,
    until: datetime,
    provider_session_id: str | None,
) -> dict[str, Any] | None:
    """The provider's chat of our text, or None when the whole listing holds none."""
    for page in range(1, MAX_PAGES + 1):
        listed = chats.list_chats(
            session_id=provider_session_id,
            created_at_ge=since,
            created_at_le=until,
            limit=PAGE_SIZE,
            page=page,
        )
        for chat in listed:
            if _ours(chat, chat_id):
                return chat
        if len(listed) < PAGE_SIZE:
            return None
    raise TooManyChats("the provider's chats made while the text left are too many to list")


def _settle(
    chat_id: uuid.UUID, found: dict[str, Any] | None, sweep: TextSweep, unit: UnitOfWork
) -> None:
    now = utcnow()
    with unit() as session:
        chat = repository.get_text_for_update(session, chat_id=chat_id)
        if chat is None:
            return
        if found is not None:
            if accept_text(session, chat=chat, answer=found, now=now):
                sweep.found += 1
                count("orchestrator_ambiguous_text_creates", resolution="found")
        elif move_text(chat, TextEvent.NOT_FOUND, now=now, due_at=now, sent_at=None):
            forget_attempt(session, call_id=chat_id)
            sweep.requeued += 1
            count("orchestrator_ambiguous_text_creates", resolution="not-created")


def resolve_lost_texts(
    chats: ProviderChats, sweep: TextSweep, *, now: datetime, unit: UnitOfWork
) -> None:
    latest_send = timedelta(seconds=unfinished_send_stale_seconds())
    with unit() as session:
        stuck = repository.claim_stuck_texts(
            session,
            now=now,
            left_before=now - latest_send,
            lease=LOOKUP_LEASE,
            limit=LOOKUPS_PER_SWEEP,
        )
    for chat_id, sent_at, provider_session_id in stuck:
        if sent_at is None:  # its worker died before the gate let it go: it never left
            _settle(chat_id, None, sweep, unit)
            continue
        try:
            found = find_created_text(
                chats,
                chat_id=chat_id,
                since=sent_at - LISTING_MARGIN,
                # Its create was made, if at all, before it could still be under way.
                until=sent_at + latest_send + LISTING_MARGIN,
                provider_session_id=provider_session_id,
            )
        except ProviderError as error:
            logger.warning("text %s: lookup failed, asking again later: %s", chat_id, error)
            sweep.failed += 1
            _retry_later(chat_id, now + LOOKUP_RETRY, unit)
            if isinstance(error, ProviderTimeout | ProviderServerError):
                return  # the provider is down: the rest wait for the next sweep
            continue  # this text's listing alone: the others are looked up
        _settle(chat_id, found, sweep, unit)


def _retry_later(chat_id: uuid.UUID, at: datetime, unit: UnitOfWork) -> None:
    with unit() as session:
        chat = repository.get_text_for_update(session, chat_id=chat_id)
        if chat is not None:
            chat.due_at = at


def _forgotten(session_id: uuid.UUID, unit: UnitOfWork) -> None:
    """The provider no longer knows the session: it is over (its record here is kept)."""
    with unit() as session:
        chat_session = repository.get_session_for_update(session, session_id=session_id)
        if chat_session is not None:
            chat_session.status = SessionStatus.COMPLETED


def poll_silent_sessions(
    chats: ProviderChats, sweep: TextSweep, *, now: datetime, unit: UnitOfWork
) -> None:
    silence = timedelta(seconds=get_settings().session_silence_seconds)
    with unit() as session:
        silent = repository.claim_silent_sessions(
            session, now=now, silence=silence, limit=POLLS_PER_SWEEP
        )
        claimed = [(s.id, s.provider_session_id) for s in silent]
    for session_id, provider_session_id in claimed:
        assert provider_session_id is not None
        try:
            snapshot = chats.get_session(provider_session_id)
        except ProviderError as error:
            logger.warning("session %s: poll failed: %s", session_id, error)
            sweep.failed += 1
            if isinstance(error, ProviderRejected) and error.status_code == HTTPStatus.NOT_FOUND:
                _forgotten(session_id, unit)  # nothing more can come of it
                continue
            if isinstance(error, ProviderTimeout | ProviderServerError | ProviderUnreachable):
                return  # the provider is down: the rest wait for the next sweep
            continue
        with unit() as session:
            chat_session = repository.get_session_for_update(session, session_id=session_id)
            if chat_session is not None:
                apply_session_snapshot(
                    session, chat_session=chat_session, snapshot=snapshot, now=utcnow()
                )
                sweep.polled += 1


def run_text_recovery(
    *,
    now: datetime | None = None,
    chats: ProviderChats | None = None,
    unit_of_work: UnitOfWork = session_scope,
) -> TextSweep:
    sweep = TextSweep()
    now = now or utcnow()
    chats = chats or provider_chats()
    resolve_lost_texts(chats, sweep, now=now, unit=unit_of_work)
    poll_silent_sessions(chats, sweep, now=now, unit=unit_of_work)
    with unit_of_work() as session:
        sweep.expired = len(
            repository.expire_sessions(
                session,
                now=now,
                default_seconds=DEFAULT_EXPIRATION_SECONDS,
                limit=EXPIRATIONS_PER_SWEEP,
            )
        )
    return sweep
