"""Sessions kept in step by polling when their news stops, and completed once idle past their
``expirationSeconds``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.flows.recover_texts import run_text_recovery
from orchestrator.models import ChatSession, SessionStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.providers import VapiClient
from orchestrator.providers.chats import ProviderChats
from tests.factories import unit_of
from tests.factories.texts import queued_text
from tests.support.chat_server import ChatServer, running_chat_server


@pytest.fixture
def provider() -> Iterator[tuple[ChatServer, ProviderChats]]:
    with (
        running_chat_server() as server,
        VapiClient(base_url=server.url, api_key="poll-test", timeout=5) as client,
    ):
        yield server, ProviderChats(client)


def _session(session: Session, org: CreatedOrg) -> ChatSession:
    chat = queued_text(session, org=org)
    return session.get_one(ChatSession, chat.session_id)


def test_a_silent_session_is_polled_and_takes_the_providers_messages(
    session: Session, org: CreatedOrg, provider: tuple[ChatServer, ProviderChats]
) -> None:
    server, chats = provider
    heard = _session(session, org)
    quiet = _session(session, org)
    now = utcnow()
    heard.provider_session_id, heard.provider_synced_at = "prov-heard", now
    quiet.provider_session_id, quiet.provider_synced_at = "prov-quiet", now - timedelta(minutes=5)
    reply = {"role": "user", "message": "YES"}
    for snapshot_id in ("prov-heard", "prov-quiet"):
        server.sessions[snapshot_id] = {"id": snapshot_id, "status": "active", "messages": [reply]}
    session.commit()
    sweep = run_text_recovery(now=now, chats=chats, unit_of_work=unit_of(session))
    assert sweep.polled == 1
    session.refresh(heard)
    session.refresh(quiet)
    assert (quiet.messages, heard.messages) == ([reply], [])
    assert quiet.provider_synced_at is not None and quiet.provider_synced_at >= now
    again = run_text_recovery(now=now, chats=chats, unit_of_work=unit_of(session))
    assert again.polled == 0  # heard from a moment ago


def test_a_session_idle_past_its_expiration_is_completed(
    session: Session, org: CreatedOrg, provider: tuple[ChatServer, ProviderChats]
) -> None:
    _, chats = provider
    now = utcnow()
    idle, busy, short = (_session(session, org) for _ in range(3))
    idle.last_activity_at = now - timedelta(days=1, seconds=1)
    busy.last_activity_at = now - timedelta(hours=23)
    short.expiration_seconds, short.last_activity_at = 60, now - timedelta(seconds=61)
    session.commit()
    sweep = run_text_recovery(now=now, chats=chats, unit_of_work=unit_of(session))
    assert sweep.expired == 2
    for row in (idle, busy, short):
        session.refresh(row)
    assert (idle.status, busy.status, short.status) == (
        SessionStatus.COMPLETED,
        SessionStatus.ACTIVE,
        SessionStatus.COMPLETED,
    )
